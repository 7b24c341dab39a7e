"""Issue 14 finding 8: discovery of a simulated segment finds its SNMP agents without the user
knowing their port (a real snmpsim on a private loopback block; no privileges needed)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_agent.cli import main
from server_agent.config import SimSection
from server_agent.discovery.identify import SIM_SNMP_PORT, IdentifySettings
from server_agent.discovery.snmp import SnmpIdentifier
from server_agent.sim.faults import FaultBook
from server_agent.sim.model import build_devices
from server_agent.sim.snmp import SnmpSimProcess
from tests.sim_support import sim_section
from tests.support import free_port


@pytest.fixture(scope="module")
def snmpsim() -> Iterator[SimSection]:
    """snmpsim serving dec-01 and enc-02 of a small segment on a free UDP port."""
    pytest.importorskip("snmpsim", reason="snmpsim is part of the agent extra")
    cfg = sim_section(snmp=True, snmp_port=free_port(kind=socket.SOCK_DGRAM))
    devices = [d for d in build_devices(cfg) if d.name in ("dec-01", "enc-02")]
    proc = SnmpSimProcess(cfg, devices, FaultBook(d.name for d in devices))
    proc.start()
    try:
        probe = SnmpIdentifier(port=cfg.snmp_port, timeout_s=0.5)
        deadline = time.monotonic() + 30
        while asyncio.run(probe.identify(devices[0].address)) is None:
            assert proc.failed() is None, proc.failed()
            assert time.monotonic() < deadline, "snmpsim did not answer within 30 s"
            time.sleep(0.3)
        yield cfg
    finally:
        proc.stop()


def _base(cfg: SimSection) -> str:
    return cfg.base_address.rsplit(".", 2)[0]  # 127.x


def test_loopback_addresses_also_try_the_simulator_port_others_do_not() -> None:
    snmp = SnmpIdentifier(port=161, loopback_ports=(SIM_SNMP_PORT, 161))
    assert SIM_SNMP_PORT == 1161  # docs/discovery.md and the demo say 1161
    assert snmp.ports_for("127.77.1.1") == (161, 1161)
    assert snmp.ports_for("198.51.100.7") == (161,)
    assert IdentifySettings().snmp_loopback_ports == (1161,)  # the agent's and the CLI's default


def test_the_loopback_port_answers_when_the_standard_one_is_silent(snmpsim: SimSection) -> None:
    silent = free_port(kind=socket.SOCK_DGRAM)
    addr = f"{_base(snmpsim)}.2.1"
    alone = SnmpIdentifier(port=silent, timeout_s=0.3)
    assert asyncio.run(alone.identify(addr)) is None
    both = SnmpIdentifier(port=silent, timeout_s=0.3, loopback_ports=(snmpsim.snmp_port,))
    info = asyncio.run(both.identify(addr))
    assert info is not None and info.sys_name == "dec-01"
    assert both.answered_port == {addr: snmpsim.snmp_port}


def test_discover_with_a_demo_config_uses_its_sim_port_and_prints_a_header(
        snmpsim: SimSection, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`discover --config` of an agent with [sim] enabled asks the simulator's port, as the
    agent's own discovery runs do; the text output has a header over aligned columns."""
    cfg = tmp_path / "demo.toml"
    cfg.write_text(f'[agent]\nstate_dir = "{tmp_path / "st"}"\n'
                   f'[sim]\nenabled = true\nbase_address = "{snmpsim.base_address}"\n'
                   f"snmp_port = {snmpsim.snmp_port}\n"
                   "[discovery]\nsnmp_timeout_s = 0.5\ntcp_timeout_s = 0.3\nmdns = false\n")
    base = _base(snmpsim)
    assert main(["discover", f"{base}.1.0/30", f"{base}.2.0/30", "--config", str(cfg)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ADDRESS", "MAC", "ROLE", "VENDOR", "MODEL", "NAME", "FOUND",
                                "BY"]
    rows = [[*line.split()[:3], line.split()[-2]] for line in lines[1:3]]
    assert rows == [[f"{base}.1.2", "-", "encoder", "enc-02"],
                    [f"{base}.2.1", "-", "decoder", "dec-01"]]
    assert lines[1].index("encoder") == lines[0].index("ROLE")  # columns under the header
