"""The host key store: trust on first use, remembered across restarts, a changed key refused."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from desktop.provisioning.errors import HostKeyChanged, ProvisionError
from desktop.provisioning.hostkeys import HostKeyStore, sha256_fingerprint
from tests.support import require_binary


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    keygen = require_binary("ssh-keygen")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")],
                   check=True)
    blob = base64.b64decode((tmp_path / "k.pub").read_text().split()[1])
    printed = subprocess.run([keygen, "-lf", str(tmp_path / "k.pub")], check=True,
                             capture_output=True, text=True).stdout.split()[1]
    assert sha256_fingerprint(blob) == printed
    assert "=" not in printed


def test_new_known_changed_and_persisted(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "ssh_host_keys.json"
    store = HostKeyStore.load(path)
    assert store.check("198.51.100.7", 22, "SHA256:aaa") == "new"
    store.remember("198.51.100.7", 22, "SHA256:aaa", "ssh-ed25519")
    again = HostKeyStore.load(path)  # a restart of the desktop
    assert again.check("198.51.100.7", 22, "SHA256:aaa") == "known"
    assert again.check("198.51.100.7", 2222, "SHA256:bbb") == "new"  # port is part of it
    with pytest.raises(HostKeyChanged) as info:
        again.check("198.51.100.7", 22, "SHA256:bbb")
    assert "CHANGED" in str(info.value) and "SHA256:aaa" in str(info.value)
    assert "Forget the old key" in str(info.value)
    again.forget("198.51.100.7", 22)
    assert HostKeyStore.load(path).check("198.51.100.7", 22, "SHA256:bbb") == "new"


def test_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ssh_host_keys.json"
    path.write_text("{not json")
    with pytest.raises(ProvisionError, match="fix or delete the file"):
        HostKeyStore.load(path)
    path.write_text('{"hosts": {"h": {"no_fingerprint": 1}}}')
    with pytest.raises(ProvisionError, match="cannot read"):
        HostKeyStore.load(path)
