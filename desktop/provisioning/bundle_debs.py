"""Debian packages for the offline bundle, resolved as for a bare minbase Bookworm.

apt runs with its own state, cache and an EMPTY dpkg status, so it downloads every package the
roles install together with all dependencies, whatever this build host has installed. The
host's apt sources are used (a Debian 12 host reaching Debian's mirrors). ``write_index`` makes
the flat repository's Packages file that the target's apt reads (``deb [trusted=yes]
file:/…/debs ./``: the bundle's SHA-256 manifest, verified before install, replaces the
archive signature).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

# Everything deploy/roles installs with apt (a unit test keeps this in step with the roles).
DEB_PACKAGES: tuple[str, ...] = (
    "python3", "python3-apt",                       # bootstrap
    "chrony", "unattended-upgrades", "sudo", "openssl", "ca-certificates",
    "iproute2",                                     # base
    "netplan.io",                                   # network
    "docker.io", "docker-compose",                  # docker
    "nftables",                                     # firewall
    "python3-venv", "libsrt1.5-gnutls",             # agent (SRT statistics via libsrt)
)


class BundleError(RuntimeError):
    """The bundle could not be built or is not intact; the message says what to do."""


def _apt_options(root: Path) -> list[str]:
    return ["-o", f"Dir::State={root / 'state'}", "-o", f"Dir::State::status={root / 'status'}",
            "-o", f"Dir::Cache={root / 'cache'}", "-o", "Debug::NoLocking=1",
            "-o", "APT::Install-Recommends=0", "-o", "APT::Get::AllowUnauthenticated=0"]


def download_debs(packages: tuple[str, ...], dest: Path, work: Path) -> list[Path]:
    """Download ``packages`` and their whole dependency closure into ``dest``."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise BundleError("apt-get and dpkg-deb are needed to build the bundle: build it on a "
                          "Debian 12 (Bookworm) machine")
    for d in ("state/lists/partial", "cache/archives/partial"):
        (work / d).mkdir(parents=True, exist_ok=True)
    (work / "status").write_text("")
    opts = _apt_options(work)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    for cmd, what in ((["apt-get", "-q", *opts, "update"], "apt-get update"),
                      (["apt-get", "-q", "-y", *opts, "--download-only", "install",
                        *packages], "apt-get install --download-only")):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise BundleError(f"{what} failed: {(proc.stdout + proc.stderr)[-1500:]}\n"
                              "check that this machine reaches a Debian 12 mirror")
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for deb in sorted((work / "cache/archives").glob("*.deb")):
        target = dest / deb.name
        shutil.move(str(deb), target)
        out.append(target)
    if not out:
        raise BundleError("apt downloaded no packages")
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def control_fields(deb: Path) -> str:
    proc = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise BundleError(f"{deb.name} is not a valid .deb: {proc.stderr.strip()}")
    return proc.stdout.rstrip("\n")


def write_index(debs_dir: Path) -> list[dict[str, str]]:
    """Write debs_dir/Packages (a flat apt repository); returns the packages' records."""
    stanzas: list[str] = []
    records: list[dict[str, str]] = []
    for deb in sorted(debs_dir.glob("*.deb")):
        control = control_fields(deb)
        digest = sha256_file(deb)
        stanzas.append(f"{control}\nFilename: ./{deb.name}\nSize: {deb.stat().st_size}\n"
                       f"SHA256: {digest}\n")
        fields = dict(line.split(": ", 1) for line in control.splitlines()
                      if ": " in line and not line.startswith(" "))
        records.append({"file": f"debs/{deb.name}", "package": fields.get("Package", ""),
                        "version": fields.get("Version", ""), "sha256": digest})
    (debs_dir / "Packages").write_text("\n".join(stanzas))
    return records
