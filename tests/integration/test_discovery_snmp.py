"""SNMP identification against a real snmpd on loopback (127.90.0.x, unprivileged port)."""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server_agent.cli import main
from tests.support import free_port, require_binary, stop_process

ADDR = "127.90.0.5"


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[int]:
    import os
    import subprocess

    exe = require_binary("snmpd")
    port = free_port(ADDR, socket.SOCK_DGRAM)
    lldp = "1.3.6.1.0.8802.1.1.2.1.4.1.1"
    (tmp_path / "snmpd.conf").write_text(
        f"agentaddress udp:{ADDR}:{port}\nrocommunity fpcomm default\n"
        "sysdescr Matrox Monarch EDGE 4K/multi-HD remote production encoder, firmware 2\n"
        "sysobjectid 1.3.6.1.4.1.5003.2.7\nsysname enc-loop-01\nsyslocation truck A\n"
        f'override {lldp}.5.0.2.1 octet_str "02:00:00:00:00:42"\n'
        f'override {lldp}.7.0.2.1 octet_str "Gi0/2"\n'
        f'override {lldp}.9.0.2.1 octet_str "rtr-01"\n')
    proc = subprocess.Popen(
        [exe, "-f", "-C", "-c", str(tmp_path / "snmpd.conf"), "-Lf", str(tmp_path / "log"),
         "-p", str(tmp_path / "pid")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent",
             "SNMP_PERSISTENT_DIR": str(tmp_path / "p")})
    try:
        time.sleep(0.5)
        yield port
    finally:
        stop_process(proc)


def test_cli_identifies_snmp_device_on_loopback(snmpd: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["discover", "127.90.0.4/30", "--json", "--snmp-community", "fpcomm",
               "--snmp-port", str(snmpd)])
    assert rc == 0
    [h] = json.loads(capsys.readouterr().out)["hosts"]
    assert (h["address"], h["found_by"], h["role"], h["vendor"], h["model"]) == (
        ADDR, ["snmp"], "encoder", "Matrox", "Monarch EDGE")
    snmp = h["snmp"]
    assert (snmp["sys_name"], snmp["sys_location"], snmp["sys_object_id"]) == (
        "enc-loop-01", "truck A", "1.3.6.1.4.1.5003.2.7")
    assert snmp["engine_id"] and snmp["interfaces"][0]["name"] == "lo"
    assert snmp["lldp"] == [{"local_port": "2", "chassis_id": "02:00:00:00:00:42",
                             "port_id": "Gi0/2", "sys_name": "rtr-01"}]


def test_wrong_community_finds_nothing(snmpd: int,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["discover", "127.90.0.4/30", "--json", "--snmp-community", "nope",
               "--snmp-port", str(snmpd)])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["hosts"] == []


ADDR3 = "127.90.0.9"  # inside 127.90.0.8/30, apart from the v2c agent's range


@pytest.fixture
def snmpd_v3(tmp_path: Path) -> Iterator[int]:
    """snmpd with one authPriv user (SHA + AES) and no community at all."""
    import os
    import subprocess

    exe = require_binary("snmpd")
    port = free_port(ADDR3, socket.SOCK_DGRAM)
    conf = tmp_path / "v3" / "snmpd.conf"
    (tmp_path / "v3" / "p").mkdir(parents=True)
    conf.write_text(
        f"agentaddress udp:{ADDR3}:{port}\n"
        'createUser flypack SHA "authpass123" AES "privpass123"\nrouser flypack priv\n'
        "sysdescr Matrox Monarch EDGE 4K/multi-HD remote production encoder, firmware 2\n"
        "sysobjectid 1.3.6.1.4.1.5003.2.7\nsysname enc-v3-01\nsyslocation truck B\n")
    proc = subprocess.Popen(
        [exe, "-f", "-C", "-c", str(conf), "-Lf", str(tmp_path / "v3" / "log"),
         "-p", str(tmp_path / "v3" / "pid")], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent",
             "SNMP_PERSISTENT_DIR": str(tmp_path / "v3" / "p")})
    try:
        time.sleep(0.5)
        assert proc.poll() is None, (tmp_path / "v3" / "log").read_text()
        yield port
    finally:
        stop_process(proc)


def _discover_v3(port: int, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    rc = main(["discover", "127.90.0.8/30", "--json", "--snmp-port", str(port),
               "--snmp-v3-user", "flypack", "--snmp-v3-auth-protocol", "SHA",
               "--snmp-v3-priv-protocol", "AES", *extra])
    assert rc == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_v3_with_the_right_keys_from_stdin_identifies(
        snmpd_v3: int, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("authpass123\nprivpass123\n"))
    out = _discover_v3(snmpd_v3, capsys, "--snmp-v3-keys-stdin")
    [h] = out["hosts"]
    assert (h["address"], h["found_by"], h["role"], h["vendor"]) == (
        ADDR3, ["snmp"], "encoder", "Matrox")
    assert (h["snmp"]["sys_name"], h["snmp"]["sys_location"]) == ("enc-v3-01", "truck B")
    assert h["snmp"]["engine_id"] and h["snmp"]["interfaces"]
    assert out["snmp_failures"] == {}


def test_versions_are_tried_in_order(snmpd_v3: int, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """v2c (no community on this agent: silence) first, then v3 answers."""
    monkeypatch.setenv("FLYPACK_SNMP_V3_AUTH_KEY", "authpass123")
    monkeypatch.setenv("FLYPACK_SNMP_V3_PRIV_KEY", "privpass123")
    out = _discover_v3(snmpd_v3, capsys, "--snmp-version", "2c,3")
    assert [h["snmp"]["sys_name"] for h in out["hosts"]] == ["enc-v3-01"]


@pytest.mark.parametrize(("auth", "priv", "reason"), [
    ("wrongauth99", "privpass123", "wrong auth key"),
    ("authpass123", "wrongpriv99", "wrong priv key"),
])
def test_v3_with_a_wrong_key_finds_nothing_and_says_why(
        snmpd_v3: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        auth: str, priv: str, reason: str) -> None:
    monkeypatch.setenv("FLYPACK_SNMP_V3_AUTH_KEY", auth)
    monkeypatch.setenv("FLYPACK_SNMP_V3_PRIV_KEY", priv)
    out = _discover_v3(snmpd_v3, capsys)
    assert out["hosts"] == []
    assert reason in out["snmp_failures"][ADDR3]
    assert "flypack" in out["snmp_failures"][ADDR3]
    assert auth not in json.dumps(out) and priv not in json.dumps(out)


def test_v3_keys_never_come_from_arguments(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLYPACK_SNMP_V3_AUTH_KEY", raising=False)
    monkeypatch.delenv("FLYPACK_SNMP_V3_PRIV_KEY", raising=False)
    rc = main(["discover", "127.90.0.8/30", "--snmp-v3-user", "flypack"])
    assert rc == 2
    assert "--snmp-v3-keys-stdin" in capsys.readouterr().err
