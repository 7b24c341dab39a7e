"""The offline bundle's parts that need no mirror: the package list, the apt index of real
.debs (dpkg-deb), the checksums and their verification. Building a whole bundle (apt + pip
against the mirrors) is exercised by tests/provision (it feeds the VM)."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest
import yaml

from desktop.provisioning.bundle import _write_sums, content_key, verify_bundle
from desktop.provisioning.bundle_debs import DEB_PACKAGES, BundleError, write_index
from tests.support import ROOT, require_binary


def _apt_names_in_roles() -> set[str]:
    names: set[str] = set()
    for f in (ROOT / "deploy" / "roles").glob("*/*/main.yml"):
        doc = yaml.safe_load(f.read_text()) or []
        if isinstance(doc, dict):  # defaults: *_packages lists
            for key, value in doc.items():
                if key.endswith("_packages") and isinstance(value, list):
                    names.update(value)
            continue
        for task in doc:
            apt = task.get("ansible.builtin.apt") if isinstance(task, dict) else None
            if apt and isinstance(apt.get("name"), list):
                names.update(apt["name"])
        for raw in re.findall(r"apt-get install[^\n]*", f.read_text()):
            names.update(w for w in raw.split() if re.fullmatch(r"python3[a-z0-9-]*", w))
    return names


def test_bundle_carries_every_package_the_roles_install() -> None:
    names = _apt_names_in_roles()
    assert {"docker.io", "netplan.io", "nftables", "python3"} <= names
    assert names <= set(DEB_PACKAGES), names - set(DEB_PACKAGES)


def test_index_of_real_debs(tmp_path: Path) -> None:
    require_binary("dpkg-deb")
    import subprocess
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text(
        "Package: flypack-probe\nVersion: 1.2-3\nArchitecture: all\n"
        "Maintainer: flypack <flypack@example.org>\nDescription: test\n")
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(pkg),
                    str(debs / "flypack-probe_1.2-3_all.deb")], check=True, capture_output=True)
    records = write_index(debs)
    index = (debs / "Packages").read_text()
    assert records[0]["package"] == "flypack-probe" and records[0]["version"] == "1.2-3"
    assert "Filename: ./flypack-probe_1.2-3_all.deb" in index
    assert f"SHA256: {records[0]['sha256']}" in index


def _bundle(tmp_path: Path, tamper: bool = False) -> Path:
    root = tmp_path / "b"
    (root / "wheels").mkdir(parents=True)
    (root / "wheels" / "flypack-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
    (root / "manifest.json").write_text('{"format": 1, "key": "k"}')
    _write_sums(root)
    out = tmp_path / "bundle.tar"
    with tarfile.open(out, "w") as tar:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                data = f.read_bytes()
                if tamper and f.name.endswith(".whl"):
                    data = b"evil!"
                info = tarfile.TarInfo(f.relative_to(root).as_posix())
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out


def test_verify_accepts_an_intact_bundle_and_names_a_damaged_file(tmp_path: Path) -> None:
    assert verify_bundle(_bundle(tmp_path / "ok"))["key"] == "k"
    with pytest.raises(BundleError, match=r"wheels/flypack-0.1.0-py3-none-any.whl .*checksum"):
        verify_bundle(_bundle(tmp_path / "bad", tamper=True))
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(BundleError, match="cannot read"):
        verify_bundle(tmp_path / "junk.tar")


def test_content_key_follows_the_images(tmp_path: Path) -> None:
    img = tmp_path / "img.tar"
    img.write_bytes(b"image-1")
    a = content_key([("x:1", img)])
    assert a == content_key([("x:1", img)]) and a != content_key([])
    img.write_bytes(b"image-2")
    assert content_key([("x:1", img)]) != a


def test_cache_keeps_the_newest_bundles(tmp_path: Path) -> None:
    import os

    from desktop.provisioning.bundle import _prune

    for i in range(5):
        f = tmp_path / f"flypack-bundle-{i}.tar"
        f.write_bytes(b"x")
        os.utime(f, (1000 + i, 1000 + i))
    _prune(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "flypack-bundle-2.tar", "flypack-bundle-3.tar", "flypack-bundle-4.tar"]
