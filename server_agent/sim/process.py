"""The simulated segment in its own process, as the demo and the benchmarks run it.

    SimProcess(cfg.sim, log=state_dir/"sim.log")
      .start()   python -m server_agent.sim ... --ready-file F --control --parent-pid PID
                 waits until F says "serving" (SimReady: its block, devices, streams, control
                 URL) or "failed" (the simulator's own one-line error), or the process ends;
                 raises SimError with the simulator's own words, never a silent exit
      .remote()  a RemoteSegment for the agent (/api/v1/sim/* forwarded to the process)
      .why()     why the process has ended (None while it runs)
      .stop()    SIGTERM, then SIGKILL, by its PID (the simulator stops snmpsim by its PID)

So that a demo RTT means what a field RTT means, the simulated devices answer from another
process than the agent's event loop (design §9). The process runs in its own session (a
terminal's Ctrl-C reaches the demo, which stops it) and ends by itself when its parent does.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from server_agent.children import stop_child
from server_agent.config import DeviceSection, SimSection
from server_agent.contract import Stream
from server_agent.sim.control import TOKEN_ENV, RemoteSegment
from server_agent.sim.segment import SimError

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = 16  # 127.77.0.0 and the next 15 blocks: up to 16 demos side by side


def _signame(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class SimReady(BaseModel):
    """What a started simulator tells its owner (the ``--ready-file``)."""

    pid: int
    base_address: str
    control_url: str | None = None
    devices: list[DeviceSection]
    streams: list[Stream]
    senders: list[str]  # ids of the streams actually being sent
    notes: list[str] = []


def sim_args(cfg: SimSection) -> list[str]:
    """``python -m server_agent.sim`` options for a [sim] table."""
    args = ["--scale", cfg.scale, "--base-address", cfg.base_address,
            "--snmp-port", str(cfg.snmp_port), "--tcp-port", str(cfg.tcp_port),
            "--http-port", str(cfg.http_port), "--streams", str(cfg.streams),
            "--stream-port", str(cfg.stream_port), "--stream-mbps", f"{cfg.stream_mbps:g}"]
    if not cfg.snmp:
        args.append("--no-snmp")
    if cfg.echo_port is not None:
        args += ["--echo-port", str(cfg.echo_port)]
    if cfg.cache_dir is not None:
        args += ["--cache-dir", str(cfg.cache_dir)]
    return args


class SimProcess:
    def __init__(self, cfg: SimSection, log: Path, *, blocks: int = BLOCKS,
                 control: bool = True, extra_args: list[str] | None = None) -> None:
        self.cfg = cfg
        self.blocks = blocks
        self.control = control
        self.extra_args = list(extra_args or [])
        self.run_dir = Path(tempfile.mkdtemp(prefix="flypack-sim-"))  # 0700
        self.log = log  # the simulator's stdout and stderr (kept: its own words on failure)
        self.ready_file = self.run_dir / "ready.json"
        self.token = secrets.token_urlsafe(24)
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready: SimReady | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "server_agent.sim", *sim_args(self.cfg),
                "--blocks", str(self.blocks), "--ready-file", str(self.ready_file),
                "--parent-pid", str(os.getpid()), *self.extra_args]
        return argv + (["--control"] if self.control else [])

    def start(self, within_s: float = 180.0) -> SimReady:
        """Start the simulator and wait until it serves (the first run encodes the test clip:
        a few seconds). Raises :class:`SimError` with the simulator's own error."""
        env = dict(os.environ, **{TOKEN_ENV: self.token})
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as logf:
            self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        deadline = time.monotonic() + within_s
        while True:
            state = self._read_ready()
            if isinstance(state, SimReady):
                self.ready = state
                return state
            if isinstance(state, str):  # its own one-line error
                self.stop()
                raise SimError(f"the simulated segment did not start: {state}")
            if (why := self.why()) is not None:
                self.stop()
                raise SimError(f"the simulated segment did not start: {why} (log: {self.log})")
            if time.monotonic() > deadline:
                self.stop()
                raise SimError(f"the simulated segment did not start within {within_s:.0f} s; "
                               f"see its log: {self.log}")
            time.sleep(0.1)

    def _read_ready(self) -> SimReady | str | None:
        """The ready file's news: SimReady when serving, the error when failed, else None."""
        try:
            data = json.loads(self.ready_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if "error" in data:
            return str(data["error"])
        return SimReady.model_validate(data)

    def why(self) -> str | None:
        """Why the process has ended, in its own words (the end of its log); None if running."""
        if self.proc is None or (rc := self.proc.poll()) is None:
            return None
        state = self._read_ready()
        if isinstance(state, str):
            return state
        if rc < 0:  # killed: its log's last line says nothing about that
            return f"the simulator (pid {self.proc.pid}) was killed by {_signame(-rc)}"
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln]
        except OSError:
            lines = []
        tail = lines[-1].removeprefix("flypack sim: ") if lines else "no output"
        return f"the simulator (pid {self.proc.pid}) exited with {rc}: {tail}"

    def remote(self) -> RemoteSegment:
        ready = self.ready
        if ready is None or ready.control_url is None:
            raise SimError("the simulator was not started with its control endpoint")
        return RemoteSegment(ready.control_url, self.token, ready.devices, ready.streams,
                             ready.senders, list(ready.notes), exited=self.why)

    def stop(self) -> None:
        stop_child(self.proc, 10)
        shutil.rmtree(self.run_dir, ignore_errors=True)
