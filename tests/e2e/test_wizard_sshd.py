"""The wizard's SSH side against a real sshd on 127.0.0.1 (its own config and port): host key
fingerprint as ssh-keygen prints it, remembered and pinned, a changed key refused, preflight
facts from a real machine, a refused password, an unreachable port, a loopback mirror."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.provisioning import cli, preflight
from desktop.provisioning.errors import HostKeyChanged, LoginFailed, TargetUnreachable
from desktop.provisioning.hostkeys import HostKeyStore
from desktop.provisioning.settings import Target
from desktop.provisioning.ssh import connect, fetch_host_key
from tests.jobs_support import sshd
from tests.support import free_port, loopback_mirror, require_binary


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path, str]]:
    """(port, client key file, host key fingerprint as ssh-keygen -lf prints it)."""
    with sshd(tmp_path, password_auth=True) as (port, key_text):
        key = tmp_path / "client_key"
        key.write_text(key_text)
        os.chmod(key, 0o600)
        printed = subprocess.run([require_binary("ssh-keygen"), "-lf",
                                  str(tmp_path / "sshd" / "host_key.pub")], check=True,
                                 capture_output=True, text=True).stdout.split()[1]
        yield port, key, printed


@pytest.fixture
def mirror() -> Iterator[str]:
    with loopback_mirror() as url:
        yield url


def os_release() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in Path("/etc/os-release").read_text().splitlines():
        k, _, v = line.partition("=")
        out[k] = v.strip('"')
    return out


def test_host_key_confirm_remember_and_preflight(server: tuple[int, Path, str], mirror: str,
                                                 tmp_path: Path) -> None:
    port, key, printed = server
    hk = fetch_host_key("127.0.0.1", port)
    assert hk.fingerprint == printed and hk.key_type == "ssh-ed25519"
    store = HostKeyStore.load(tmp_path / "cfg" / "ssh_host_keys.json")
    assert store.check("127.0.0.1", port, hk.fingerprint) == "new"
    store.remember("127.0.0.1", port, hk.fingerprint, hk.key_type)
    assert HostKeyStore.load(store.path).check("127.0.0.1", port,
                                               fetch_host_key("127.0.0.1", port).fingerprint
                                               ) == "known"
    target = Target("127.0.0.1", port, "root", key_file=str(key),
                    host_key_sha256=hk.fingerprint)
    with connect(target) as session:
        facts = preflight.gather(session, mirror=mirror)
        checks = {c.key: c for c in preflight.evaluate(facts, has_bundle=False)}
        bad = preflight.gather(session, mirror=f"http://127.0.0.1:{free_port()}/")
    rel = os_release()
    bookworm = rel.get("ID") == "debian" and rel.get("VERSION_ID") == "12"
    assert checks["os"].status == ("ok" if bookworm else "fail"), checks["os"]
    assert facts.get("arch") == platform.machine()
    assert checks["sudo"].status == "ok" and checks["sudo"].detail == "logged in as root"
    assert checks["clock"].status == "ok" and facts.skew_s is not None
    assert abs(facts.skew_s) < 2.0  # same machine
    assert checks["ram"].detail.endswith("RAM") and "GiB free on /var" in checks["disk"].detail
    assert checks["packages"].status == "ok" and "answers" in checks["packages"].detail
    assert "lo" not in facts.multi.get("iface", []) and facts.multi.get("iface")
    c = {c.key: c for c in preflight.evaluate(bad, has_bundle=False)}["packages"]
    assert c.status == "fail" and "does not answer" in c.detail and c.hint


def test_changed_key_is_refused(server: tuple[int, Path, str], tmp_path: Path) -> None:
    port, key, printed = server
    store = HostKeyStore.load(tmp_path / "keys.json")
    store.remember("127.0.0.1", port, "SHA256:" + "A" * 43, "ssh-ed25519")  # the old machine
    with pytest.raises(HostKeyChanged, match="CHANGED"):
        store.check("127.0.0.1", port, fetch_host_key("127.0.0.1", port).fingerprint)
    target = Target("127.0.0.1", port, "root", key_file=str(key),
                    host_key_sha256="SHA256:" + "A" * 43)
    with pytest.raises(HostKeyChanged) as info:  # the login never happens
        connect(target)
    assert info.value.seen == printed


def test_wrong_password_and_unreachable(server: tuple[int, Path, str], mirror: str) -> None:
    port, _, printed = server
    target = Target("127.0.0.1", port, "root", password="not-the-password",
                    host_key_sha256=printed)
    with pytest.raises(LoginFailed) as info:
        connect(target)
    assert "refused the password" in str(info.value) and info.value.hint
    with pytest.raises(TargetUnreachable, match="check the address and port"):
        connect(replace(target, port=free_port()))
    mirror_port = int(mirror.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(TargetUnreachable, match="not as an SSH server"):
        fetch_host_key("127.0.0.1", mirror_port, timeout=3)


def test_headless_cli_asks_for_the_key_then_stops_on_a_failed_check(
        server: tuple[int, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`flypack-desktop provision`: never deploys to this machine here — no bundle and no
    mirror make the package check fail, which must stop it before anything changes."""
    port, key, printed = server
    settings = tmp_path / "fp.json"
    settings.write_text(json.dumps({
        "flypack_id": "flypack-cli", "mgmt_interface": "eth1",
        "mgmt_address": "198.51.100.10/24",
        "monitored": [{"interface": "eth2", "address": "203.0.113.10/24"}]}))
    base = ["--host", "127.0.0.1", "--port", str(port), "--key", str(key),
            "--settings", str(settings), "--workdir", str(tmp_path / "runs")]
    assert cli.main(base) == 2
    out = capsys.readouterr().out
    assert printed in out and "--host-key" in out
    assert cli.main([*base, "--host-key", printed]) == 2
    out = capsys.readouterr().out
    assert "check ok   Administrator rights" in out
    assert "check fail Packages: offline bundle required" in out
    assert not (tmp_path / "runs").exists()  # the deploy never started
    settings.write_text("{\"flypack_id\": 3")
    assert cli.main([*base, "--host-key", printed]) == 2
    assert "cannot read the settings" in capsys.readouterr().err


def test_key_file_with_a_passphrase(server: tuple[int, Path, str], tmp_path: Path) -> None:
    port, _, printed = server
    key = tmp_path / "locked_key"
    subprocess.run([require_binary("ssh-keygen"), "-q", "-t", "ed25519", "-N", "s3cret",
                    "-f", str(key)], check=True)
    with (tmp_path / "sshd" / "authorized_keys").open("a") as fh:
        fh.write(Path(f"{key}.pub").read_text())
    target = Target("127.0.0.1", port, "root", key_file=str(key), host_key_sha256=printed)
    with pytest.raises(LoginFailed, match="protected by a passphrase"):
        connect(target)
    with pytest.raises(LoginFailed, match="passphrase does not open"):
        connect(replace(target, password="wrong"))
    with pytest.raises(LoginFailed, match="does not exist"):
        connect(replace(target, key_file=str(tmp_path / "nope")))
    with connect(replace(target, password="s3cret")) as session:
        assert session.run("id -u")[1].strip() == "0"
