"""SNMP identification against a real snmpd on loopback (127.90.0.x, unprivileged port)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

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
