"""Two `make demo`s side by side (finding 7): each simulator takes a free 127.x block, both
demos serve, a fault injected in one reaches only its own simulator, and Ctrl-C on each stops
everything it started (the simulator in its own process, design §9)."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.journeys.demo_run import DemoRun
from tests.support import refused

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pysnmp.*")


def _sim_pid(run: DemoRun) -> int:
    out = subprocess.run(["pgrep", "-P", str(run.proc.pid)], capture_output=True, text=True)
    for kid in out.stdout.split():
        if b"server_agent.sim" in Path(f"/proc/{kid}/cmdline").read_bytes():
            return int(kid)
    raise AssertionError(f"demo on port {run.port} runs no simulator process")


def _device(run: DemoRun, name: str) -> dict[str, Any]:
    r = run.api("GET", "/api/v1/sim/devices")
    r.raise_for_status()
    return next(d for d in r.json() if d["name"] == name)


def _block(address: str) -> ipaddress.IPv4Network:
    return ipaddress.ip_network(f"{address}/16", strict=False)



def _sys_name(dev: dict[str, Any]) -> str | None:
    """SNMP v2c GET sysName.0 of a simulated device (one try, 2 s): None when unanswered."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    async def get() -> str | None:
        target = await UdpTransportTarget.create((dev["address"], dev["snmp_port"]), timeout=2,
                                                 retries=0)
        err, status, _, binds = await get_cmd(
            SnmpEngine(), CommunityData("public", mpModel=1), target, ContextData(),
            ObjectType(ObjectIdentity("1.3.6.1.2.1.1.5.0")))
        return None if err or status else str(binds[0][1])

    return asyncio.run(get())


def _until(check: Any, what: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return True


def test_two_demos_side_by_side() -> None:
    first = DemoRun.start()
    try:
        second = DemoRun.start()
    except RuntimeError:
        first.stop()
        raise
    try:
        sims = [_sim_pid(first), _sim_pid(second)]
        ep = [_device(first, "ep-005"), _device(second, "ep-005")]
        assert _block(ep[0]["address"]) != _block(ep[1]["address"]), ep
        assert "is taken" in second.banner  # its first choice, 127.77, was the first's
        for dev in ep:  # SNMP (snmpsim, a child of each simulator) on each block
            _until(lambda d=dev: _sys_name(d) == "ep-005", f"SNMP of ep-005 on {dev['address']}")
        for run in (first, second):
            assert "simulated: 40 devices" in run.banner
            streams = run.api("GET", "/api/v1/streams").json()
            assert {s["id"] for s in streams} >= {"sim-enc-01"}

        r = first.api("PUT", "/api/v1/sim/faults/ep-005", json={"down": True})
        assert r.status_code == 200, r.text
        assert refused(ep[0]["address"], ep[0]["tcp_port"])  # the first demo's device
        assert not refused(ep[1]["address"], ep[1]["tcp_port"])  # not the second's
        _until(lambda: _sys_name(ep[0]) is None, "the first demo's ep-005 to stop answering SNMP")
        assert _sys_name(ep[1]) == "ep-005"
        assert second.api("GET", "/api/v1/sim/faults").json() == []
        assert first.api("DELETE", "/api/v1/sim/faults").status_code == 204
    finally:
        second.stop()
        first.stop()
    for run, sim in zip((first, second), sims, strict=True):
        assert run.proc.returncode == 0, run.output()[-2000:]
        assert _gone(sim), f"simulator {sim} outlived its demo"
        assert "flypack demo stopped" in run.output()
