"""A real agent with the simulated segment: an API discovery run identifies its devices by
SNMP (snmpsim on loopback), progress and result over the API; exports are written."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.sim_support import sim_section
from tests.support import agent_process, free_port

pytestmark = pytest.mark.slow


def test_api_run_identifies_the_simulated_devices(tmp_path: Path) -> None:
    cfg = sim_section(snmp=True, snmp_port=free_port(kind=socket.SOCK_DGRAM))
    base = cfg.base_address.rsplit(".", 2)[0]  # 127.x
    toml = (f'\n[sim]\nenabled = true\nbase_address = "{cfg.base_address}"\nsnmp = true\n'
            f"snmp_port = {cfg.snmp_port}\necho_port = {cfg.echo_port}\n"
            f"tcp_port = {cfg.tcp_port}\nhttp_port = {cfg.http_port}\nstreams = 0\n"
            "[discovery]\nsnmp_timeout_s = 0.5\ntcp_timeout_s = 0.5\n")
    with agent_process(tmp_path, toml) as agent:
        h = {"Authorization": f"Bearer {agent.token('operator')}"}
        nets = [f"{base}.1.0/28", f"{base}.3.0/29"]  # encoders .1-.12, routers .1-.4
        run = None
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:  # snmpsim needs a moment after the agent is up
            r = httpx.post(f"{agent.url}/api/v1/discovery/runs", json={"networks": nets},
                           headers=h, timeout=10)
            assert r.status_code == 202, r.text
            run_id = r.json()["id"]
            while time.monotonic() < deadline:
                run = httpx.get(f"{agent.url}/api/v1/discovery/runs/{run_id}", headers=h,
                                timeout=10).json()
                if run["state"] != "running":
                    break
                time.sleep(0.3)
            if run and run["found"] >= 16:
                break
        assert run is not None and run["state"] == "done", run
        assert run["found"] == 16 and run["total"] == 14 + 6
        roles = {}
        for dev_id in run["devices"]:
            d = httpx.get(f"{agent.url}/api/v1/devices/{dev_id}", headers=h, timeout=10).json()
            roles[d["name"]] = (d["role"], d["source"], bool(d["evidence"]))
        assert roles["enc-01"] == ("encoder", "discovery", True)
        assert roles["rtr-02"] == ("router", "discovery", True)
        assert sum(1 for r in roles.values() if r[0] == "encoder") == 12
        # the simulated devices themselves stay the registry's (no double probing)
        listed = httpx.get(f"{agent.url}/api/v1/devices", params={"source": "discovery"},
                           headers=h, timeout=10).json()
        assert listed == []
        ansible = (agent.state_dir / "inventory" / "ansible.yml").read_text()
        assert "enc-01:" in ansible and "routers:" in ansible
