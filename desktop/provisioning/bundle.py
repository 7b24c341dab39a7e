"""The offline bundle: everything the deploy installs, in one archive the laptop carries.

    python -m desktop.provisioning.bundle [--out DIR] [--image NAME=FILE.tar ...] [--verify F]

Layout of ``flypack-bundle-<key>.tar`` (uncompressed: its contents are compressed already)::

    manifest.json   format, key, the Debian packages (name, version, sha256), wheels, images
    SHA256SUMS      sha256sum(1) lines for every other file; the target checks them
                    (``sha256sum --check --strict``) before anything is installed
    debs/           .debs for a minbase Bookworm with all dependencies + a flat Packages index
    wheels/         flypack and its [agent] dependencies (pip wheel, CPython 3.11 = Bookworm)
    images/         container images (``docker save`` files given with --image)

The file name carries a key over everything that goes in (package list, pyproject.toml, the
agent's sources, the images), so a cache directory (default /var/tmp/flypack-bundle) keeps
one bundle per content and a second build of the same content is free. There is no container
engine on this project's build host: without --image the bundle has no images, the manifest
says so, and the stack role starts only services whose images the server has.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from desktop.provisioning.bundle_debs import (
    DEB_PACKAGES,
    BundleError,
    download_debs,
    sha256_file,
    write_index,
)

FORMAT = 1
CACHE = Path(os.environ.get("FLYPACK_BUNDLE_CACHE", "/var/tmp/flypack-bundle"))
PROJECT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "server_agent", "desktop")
KEEP = 3  # bundles kept in the cache directory


def content_key(images: list[tuple[str, Path]], project: Path = PROJECT) -> str:
    """A key over everything that goes into the bundle (not over time or the mirror)."""
    h = hashlib.sha256(f"format {FORMAT}\n{' '.join(DEB_PACKAGES)}\n".encode())
    for top in SOURCES:
        base = project / top
        files = [base] if base.is_file() else sorted(
            p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for f in files:
            h.update(str(f.relative_to(project)).encode() + b"\0" + f.read_bytes() + b"\0")
    for name, tar in images:
        h.update(f"image {name} {sha256_file(tar)}\n".encode())
    return h.hexdigest()[:16]


def build_wheels(dest: Path, project: Path = PROJECT) -> list[Path]:
    """flypack's wheel and the wheels of its [agent] dependencies."""
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
         "--wheel-dir", str(dest), f"{project}[agent]"],
        capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BundleError(f"pip wheel failed: {(proc.stdout + proc.stderr)[-1500:]}\n"
                          "check that this machine reaches PyPI (or has the wheels cached)")
    wheels = sorted(dest.glob("*.whl"))
    if not any(w.name.startswith("flypack-") for w in wheels):
        raise BundleError("pip wheel made no flypack wheel")
    return wheels


def _write_sums(root: Path) -> None:
    lines = []
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root).as_posix()
        if rel != "SHA256SUMS":
            lines.append(f"{sha256_file(f)}  {rel}\n")
    (root / "SHA256SUMS").write_text("".join(lines))


def build_bundle(out_dir: Path = CACHE, images: list[tuple[str, Path]] | None = None,
                 log: Callable[[str], None] = print) -> Path:
    """The bundle for the current content: from the cache, or built now."""
    images = images or []
    for name, tar in images:
        if not tar.is_file():
            raise BundleError(f"image file {tar} for {name} does not exist (make it with "
                              f"`docker save -o {tar} {name}`)")
    key = content_key(images)
    out = out_dir / f"flypack-bundle-{key}.tar"
    if out.is_file():
        log(f"bundle up to date: {out}")
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / f".build-{key}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    root = work / "bundle"
    try:
        started = time.monotonic()
        log(f"resolving {len(DEB_PACKAGES)} Debian packages with their dependencies …")
        download_debs(DEB_PACKAGES, root / "debs", work / "apt")
        debs = write_index(root / "debs")
        log(f"{len(debs)} .debs; building the agent's wheels …")
        wheels = build_wheels(root / "wheels")
        image_records = []
        for name, tar in images:
            (root / "images").mkdir(exist_ok=True)
            target = root / "images" / f"{name.replace('/', '_').replace(':', '_')}.tar"
            shutil.copyfile(tar, target)
            image_records.append({"name": name, "file": f"images/{target.name}",
                                  "sha256": sha256_file(target)})
        manifest = {
            "format": FORMAT, "key": key, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                    time.gmtime()),
            "debian": {"suite": "bookworm", "requested": list(DEB_PACKAGES), "debs": debs},
            "wheels": [{"file": f"wheels/{w.name}", "sha256": sha256_file(w)} for w in wheels],
            "images": image_records,
            "images_note": ("" if images else "no container images: this build host has no "
                            "container engine (pass --image NAME=FILE from `docker save`)"),
        }
        (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        _write_sums(root)
        tmp = out.with_suffix(".tar.part")
        with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as archive:
            for f in sorted(root.rglob("*")):
                archive.add(f, arcname=f.relative_to(root).as_posix(), recursive=False)
        tmp.rename(out)
        _prune(out_dir, keep=KEEP)
        log(f"built {out} ({out.stat().st_size / 1e6:.0f} MB) in "
            f"{time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _prune(out_dir: Path, keep: int) -> None:
    """Keep the newest ``keep`` bundles: each content change makes a new one."""
    bundles = sorted(out_dir.glob("flypack-bundle-*.tar"), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in bundles[keep:]:
        old.unlink(missing_ok=True)


def verify_bundle(path: Path) -> dict[str, object]:
    """Check every file of the bundle against SHA256SUMS; returns the manifest."""
    try:
        with tarfile.open(path) as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            sums_member = members.get("SHA256SUMS")
            if sums_member is None or "manifest.json" not in members:
                raise BundleError(f"{path} is not a flypack bundle (no SHA256SUMS/manifest)")
            sums = tar.extractfile(sums_member).read().decode()  # type: ignore[union-attr]
            listed = {}
            for line in sums.splitlines():
                digest, name = line.split("  ", 1)
                listed[name] = digest
            for name, member in members.items():
                if name == "SHA256SUMS":
                    continue
                if name not in listed:
                    raise BundleError(f"{name} in {path} is not in SHA256SUMS")
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                if hashlib.sha256(data).hexdigest() != listed[name]:
                    raise BundleError(f"{name} in {path} does not match its checksum: the "
                                      "bundle is damaged; build or copy it again")
            missing = set(listed) - set(members)
            if missing:
                raise BundleError(f"{path} lacks {sorted(missing)[:3]}")
            manifest: dict[str, object] = json.loads(
                tar.extractfile(members["manifest.json"]).read())  # type: ignore[union-attr]
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise BundleError(f"cannot read the bundle {path}: {exc}") from exc
    return manifest


def _parse_image(text: str) -> tuple[str, Path]:
    name, sep, file = text.partition("=")
    if not sep or not name or not file:
        raise argparse.ArgumentTypeError("use NAME=FILE, e.g. prom/prometheus:v2.42.0=prom.tar")
    return name, Path(file)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m desktop.provisioning.bundle",
                                description="build (or find cached) the offline bundle")
    p.add_argument("--out", type=Path, default=CACHE, help=f"cache directory ({CACHE})")
    p.add_argument("--image", type=_parse_image, action="append", default=[],
                   metavar="NAME=FILE", help="a `docker save` file to include (repeatable)")
    p.add_argument("--verify", type=Path, metavar="BUNDLE", help="only check a bundle")
    args = p.parse_args(argv)
    try:
        if args.verify:
            manifest = verify_bundle(args.verify)
            print(f"{args.verify}: intact (key {manifest.get('key')})")
            return 0
        print(build_bundle(args.out, args.image, log=lambda m: print(m, file=sys.stderr)))
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
