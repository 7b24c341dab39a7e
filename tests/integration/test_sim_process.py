"""The simulator in its own process (`python -m server_agent.sim`, as `make demo` runs it):
two at once on free blocks, both serving; the fault API reaches each through its own control
endpoint; it says why when it cannot start, and a simulator that dies is reported."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server_agent.config import SimSection
from server_agent.contract import SimFault
from server_agent.sim.faults import FaultError
from server_agent.sim.process import SimProcess, SimReady
from server_agent.sim.segment import SimError
from tests.sim_support import sim_section
from tests.support import ROOT


def _banner(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as s:
        s.settimeout(5)
        return s.recv(200).decode()


def _echo(address: str, port: int) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"ping", (address, port))
        return s.recv(100)


def _enc01(ready: SimReady) -> str:
    return next(d.address for d in ready.devices if d.name == "enc-01")


def _gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return True


def test_two_simulators_at_once_each_on_its_own_block(tmp_path: Path) -> None:
    cfg = sim_section()
    a, b = (SimProcess(cfg, tmp_path / f"{n}.log", blocks=4) for n in "ab")
    try:
        with ThreadPoolExecutor(2) as pool:  # started at the same time, same first block
            ra, rb = pool.map(lambda p: p.start(), (a, b))
        assert {ra.base_address, rb.base_address} < \
            {f"127.{int(cfg.base_address.split('.')[1]) + i}.0.0" for i in range(4)}
        assert ra.base_address != rb.base_address and a.pid != b.pid
        moved = ra if ra.base_address != cfg.base_address else rb
        assert any("is taken" in n for n in moved.notes), moved.notes
        for ready in (ra, rb):  # both serve, each from its own process
            assert cfg.echo_port is not None
            assert _echo(_enc01(ready), cfg.echo_port) == b"ping"
            assert _banner(_enc01(ready), cfg.tcp_port).startswith("enc-01 ")
            assert len(ready.devices) == 40 and ready.control_url

        async def down_on_a() -> None:
            rs = a.remote()
            try:
                await rs.put_fault("enc-01", SimFault(down=True))
            finally:
                await rs.stop()

        asyncio.run(down_on_a())
        with pytest.raises(ConnectionRefusedError):
            _banner(_enc01(ra), cfg.tcp_port)  # A's enc-01 is down
        assert _banner(_enc01(rb), cfg.tcp_port).startswith("enc-01 ")  # B's is not
    finally:
        a.stop()
        b.stop()
    assert a.pid is not None and b.pid is not None and _gone(a.pid) and _gone(b.pid)


def _argv(cfg: SimSection, *extra: str) -> list[str]:
    return [sys.executable, "-m", "server_agent.sim", "--base-address", cfg.base_address,
            "--no-snmp", "--streams", "0", "--echo-port", str(cfg.echo_port),
            "--tcp-port", str(cfg.tcp_port), "--http-port", str(cfg.http_port), *extra]


def test_no_free_block_is_one_line_exit_2_in_its_own_words(tmp_path: Path) -> None:
    cfg = sim_section()
    enc = f"127.{cfg.base_address.split('.')[1]}.1.1"
    ready = tmp_path / "ready.json"
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind((enc, cfg.tcp_port))
        held.listen(1)
        r = subprocess.run(_argv(cfg, "--blocks", "1", "--ready-file", str(ready)),
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
        proc = SimProcess(cfg, tmp_path / "sim.log", blocks=1)
        with pytest.raises(SimError) as err:
            proc.start()  # what the demo and the bench see
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("flypack sim: no free address block")
    assert cfg.base_address in r.stderr and f"enc-01 on {enc}" in r.stderr
    assert "Traceback" not in r.stderr
    assert "no free address block" in json.loads(ready.read_text())["error"]
    assert "no free address block" in str(err.value) and cfg.base_address in str(err.value)
    assert proc.pid is not None and _gone(proc.pid)


def test_bad_options_say_what_is_wrong(tmp_path: Path) -> None:
    cfg = sim_section()
    r = subprocess.run(_argv(cfg, "--base-address", "10.0.0.0"), capture_output=True,
                       text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "127.x.0.0" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run(_argv(cfg, "--control"), capture_output=True, text=True, timeout=60,
                       cwd=ROOT, env={k: v for k, v in os.environ.items()
                                      if k != "FLYPACK_SIM_CONTROL_TOKEN"})
    assert r.returncode == 2 and "FLYPACK_SIM_CONTROL_TOKEN" in r.stderr


def test_a_simulator_that_dies_is_reported_with_why(tmp_path: Path) -> None:
    proc = SimProcess(sim_section(), tmp_path / "sim.log")
    try:
        proc.start()
        assert proc.why() is None and proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.proc is not None
        proc.proc.wait(10)
        why = proc.why()
        assert why is not None and f"pid {proc.pid}" in why and "SIGKILL" in why

        async def call() -> FaultError:
            rs = proc.remote()
            try:
                await rs.list_faults()
            except FaultError as exc:
                return exc
            finally:
                await rs.stop()
            raise AssertionError("a dead simulator answered")

        err = asyncio.run(call())
        assert err.status == 503 and "killed by SIGKILL" in str(err)
    finally:
        proc.stop()


def test_the_simulator_ends_with_its_parent(tmp_path: Path) -> None:
    """A demo killed with SIGKILL leaves no simulator holding its block."""
    cfg = sim_section()
    pidfile = tmp_path / "sim.pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import os, subprocess, sys, time\n"
        f"p = subprocess.Popen({_argv(cfg, '--seconds', '120')!r}"
        " + ['--parent-pid', str(os.getpid())])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(120)\n")], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline, "the parent did not start the simulator"
            time.sleep(0.1)
        sim = int(pidfile.read_text())
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 30
        while not _gone(sim) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(sim), "the simulator outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        if pidfile.exists() and pidfile.read_text() and not _gone(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
