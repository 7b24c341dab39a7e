"""The simulated segment inside a real agent process, and `flypack-agent demo`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.sim_support import sim_section
from tests.support import AGENT_BIN, agent_process, free_port, stop_process


def sim_toml() -> str:
    cfg = sim_section(streams=0)
    return (f'\n[sim]\nenabled = true\nbase_address = "{cfg.base_address}"\nsnmp = false\n'
            f"echo_port = {cfg.echo_port}\ntcp_port = {cfg.tcp_port}\n"
            f"http_port = {cfg.http_port}\nstreams = 0\n")


def test_agent_with_segment_fault_api_and_probes(tmp_path: Path) -> None:
    with agent_process(tmp_path, sim_toml()) as agent:
        h = {r: {"Authorization": f"Bearer {agent.token(r)}"} for r in ("viewer", "operator")}
        devs = httpx.get(f"{agent.url}/api/v1/devices", headers=h["viewer"], timeout=10).json()
        assert len(devs) == 40 and {"enc-01", "ep-020"} <= {d["name"] for d in devs}
        sim = httpx.get(f"{agent.url}/api/v1/sim/devices", headers=h["viewer"], timeout=10)
        assert sim.status_code == 200
        ep = next(d for d in sim.json() if d["name"] == "ep-005")
        url = f"{agent.url}/api/v1/sim/faults/ep-005"
        assert httpx.put(url, json={"down": True}, headers=h["viewer"]).status_code == 403
        r = httpx.put(url, json={"down": True}, headers=h["operator"], timeout=10)
        assert r.status_code == 200, r.text
        time.sleep(0.3)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ep["address"], ep["tcp_port"]), timeout=1).close()
        # the agent's own probes notice: the udp/tcp probes of ep-005 go down
        probe = f"udp:{ep['echo_port']}"
        deadline = time.monotonic() + 15
        state = None
        while time.monotonic() < deadline:
            d = httpx.get(f"{agent.url}/api/v1/devices/ep-005", headers=h["viewer"]).json()
            state = {p["probe"]: p["up"] for p in d["probes"]}
            if state.get(probe) is False:
                break
            time.sleep(0.5)
        assert state is not None and state.get(probe) is False, state
        r = httpx.delete(f"{agent.url}/api/v1/sim/faults", headers=h["operator"], timeout=10)
        assert r.status_code == 204
        time.sleep(0.3)
        socket.create_connection((ep["address"], ep["tcp_port"]), timeout=1).close()


def test_demo_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([AGENT_BIN, "demo", "--port", str(port)], capture_output=True,
                           text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "in use" in r.stderr


@pytest.mark.slow
def test_demo_runs_and_stops_cleanly(tmp_path: Path) -> None:
    """`flypack-agent demo` on the default simulated addresses (127.77.x): skip when another
    demo holds them."""
    try:
        with socket.socket() as s:
            s.bind(("127.77.1.1", 8023))
    except OSError:
        pytest.skip("another simulated segment is running on 127.77.x")
    port = free_port()
    out = tmp_path / "demo.out"
    with out.open("wb") as fh:
        proc = subprocess.Popen([AGENT_BIN, "demo", "--port", str(port)], stdout=fh,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "Ctrl-C to stop" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.3)
        text = out.read_text()
        password = re.search(r"user admin\s+password (\S+)", text)
        assert password and f"http://127.0.0.1:{port}" in text and "curl -X PUT" in text
        assert re.search(r"simulated: 40 devices, \d streams", text)
        url = f"http://127.0.0.1:{port}"
        tok = httpx.post(f"{url}/api/v1/auth/login", timeout=10, json={
            "username": "admin", "password": password.group(1)}).json()["access_token"]
        r = httpx.put(f"{url}/api/v1/sim/faults/enc-01", json={"loss_ratio": 0.2},
                      headers={"Authorization": f"Bearer {tok}"}, timeout=10)
        assert r.status_code == 200
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "flypack demo stopped" in out.read_text()
        for pid in children:  # snmpsim was stopped by its PID
            assert not os.path.exists(f"/proc/{pid}") or \
                "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    finally:
        stop_process(proc)
