"""The simulated segment inside a real agent process, and `flypack-agent demo`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.sim_support import sim_section
from tests.support import AGENT_BIN, agent_process, free_port, refused, stop_process


def sim_toml() -> str:
    cfg = sim_section(streams=0)
    return (f'\n[sim]\nenabled = true\nbase_address = "{cfg.base_address}"\nsnmp = false\n'
            f"echo_port = {cfg.echo_port}\ntcp_port = {cfg.tcp_port}\n"
            f"http_port = {cfg.http_port}\nstreams = 0\n")



def _until(check: Callable[[], bool], what: str, within_s: float = 20.0) -> None:
    """Wait (bounded) for a fact: the segment applies a fault on its own loop, a moment later."""
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


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
        _until(lambda: refused(ep["address"], ep["tcp_port"]), "ep-005's listener to close")
        # the agent's own probes notice: the udp/tcp probes of ep-005 go down
        probe = f"udp:{ep['echo_port']}"
        deadline = time.monotonic() + 15
        state = None
        while time.monotonic() < deadline:
            d = httpx.get(f"{agent.url}/api/v1/devices/ep-005", headers=h["viewer"],
                          timeout=10).json()
            state = {p["probe"]: p["up"] for p in d["probes"]}
            if state.get(probe) is False:
                break
            time.sleep(0.5)
        assert state is not None and state.get(probe) is False, state
        r = httpx.delete(f"{agent.url}/api/v1/sim/faults", headers=h["operator"], timeout=10)
        assert r.status_code == 204
        _until(lambda: not refused(ep["address"], ep["tcp_port"]), "ep-005 to reopen")


def test_demo_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([AGENT_BIN, "demo", "--port", str(port)], capture_output=True,
                           text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "in use" in r.stderr


def test_demo_reports_the_simulators_own_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A simulator that cannot start ends the demo with its own words: one line, exit 2."""
    from server_agent.sim import demo
    from server_agent.sim.process import SimProcess

    block = sim_section().base_address
    enc = f"127.{block.split('.')[1]}.1.1"

    class OneTakenBlock(SimProcess):  # the demo's simulator, held to one block we occupy
        def argv(self) -> list[str]:
            return [*super().argv(), "--base-address", block, "--blocks", "1"]

    monkeypatch.setattr(demo, "SimProcess", OneTakenBlock)
    old = signal.getsignal(signal.SIGTERM)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
            held.bind((enc, 7 if os.geteuid() == 0 else 7007))  # enc-01's echo port
            rc = demo.run_demo(free_port(), "small", tmp_path / "state")
    finally:
        signal.signal(signal.SIGTERM, old)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith("flypack-agent: the simulated segment did not start: no free address")
    assert block in err and f"enc-01 on {enc}" in err and "Traceback" not in err
    assert "no free address block" in (tmp_path / "state" / "sim.log").read_text()


def _sim_child(pid: int) -> int:
    """The demo's simulator: its child process running ``server_agent.sim``."""
    for kid in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                              text=True).stdout.split():
        cmd = Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")
        if b"server_agent.sim" in cmd:
            return int(kid)
    raise AssertionError(f"the demo (pid {pid}) runs no simulator process")


def _listener_pid(address: str, port: int) -> int:
    out = subprocess.run(["ss", "-Htlnp", f"src {address}:{port}"], capture_output=True,
                         text=True, check=True).stdout
    found = re.search(r"pid=(\d+)", out)
    assert found, out
    return int(found.group(1))


@pytest.mark.slow
def test_demo_runs_and_stops_cleanly(tmp_path: Path) -> None:
    """`flypack-agent demo`: its simulated devices answer from their own process (design §9),
    on a free block even when another demo holds 127.77.x; Ctrl-C stops it by its PID."""
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
        assert password and f"http://127.0.0.1:{port}" in text and "-X PUT" in text
        assert re.search(r"simulated: 40 devices, \d streams", text)
        url = f"http://127.0.0.1:{port}"
        tok = httpx.post(f"{url}/api/v1/auth/login", timeout=10, json={
            "username": "admin", "password": password.group(1)}).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}"}
        r = httpx.put(f"{url}/api/v1/sim/faults/enc-01", json={"loss_ratio": 0.2},
                      headers=h, timeout=10)
        assert r.status_code == 200 and r.json()["fault"]["loss_ratio"] == 0.2, r.text
        held = httpx.get(f"{url}/api/v1/sim/faults", headers=h, timeout=10).json()
        assert [(f["device"], f["fault"]["loss_ratio"]) for f in held] == [("enc-01", 0.2)]
        sim = _sim_child(proc.pid)
        ep = next(d for d in httpx.get(f"{url}/api/v1/sim/devices", headers=h,
                                       timeout=10).json() if d["name"] == "ep-005")
        assert _listener_pid(ep["address"], ep["tcp_port"]) == sim != proc.pid
        r = httpx.put(f"{url}/api/v1/sim/faults/ep-005", json={"down": True}, headers=h,
                      timeout=10)
        assert r.status_code == 200  # forwarded to the simulator: its listener closes
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ep["address"], ep["tcp_port"]), timeout=2).close()
        children = subprocess.run(["pgrep", "-P", f"{proc.pid},{sim}"], capture_output=True,
                                  text=True).stdout.split()  # the simulator, its snmpsim
        assert len(children) >= 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "flypack demo stopped" in out.read_text()
        for pid in children:  # the simulator and snmpsim were stopped by their PIDs
            assert not os.path.exists(f"/proc/{pid}") or \
                "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    finally:
        stop_process(proc)
