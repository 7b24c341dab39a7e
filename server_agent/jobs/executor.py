"""One playbook run: ansible-runner ``run_async`` on a worker thread.

    worker thread (ansible-runner)                event loop
    event_handler(ev) ──call_soon_threadsafe──►   on_event(ev): persist, then publish
    cancel_callback()  ◄── polled every 0.2 s ──  cancel(): sets a threading.Event

``cancel_callback`` is always set (without one ansible-runner replaces the process's SIGINT and
SIGTERM handlers) and ``pexpect_timeout`` is 0.2 s (default 5 s), so a cancel or a time limit
ends the whole ansible process group (SIGKILL to the group) within a second. ``event_handler``
returns True, else ansible-runner writes no event files (and no stats).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

PEXPECT_TIMEOUT_S = 0.2
STAT_KEYS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed")


@dataclass
class RunSpec:
    job_id: int
    data_dir: Path
    playbook: Path  # inside data_dir/project
    inventories: list[Path]
    limit: list[str]
    timeout_s: int
    launcher: Path
    forks: int
    envvars: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    status: str  # ansible-runner's: successful, failed, canceled, timeout
    rc: int | None
    stats: dict[str, dict[str, int]]
    reason: str = ""


def host_stats(stats: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    """ansible-runner's {counter: {host: n}} as {host: {counter: n}}."""
    out: dict[str, dict[str, int]] = {}
    for key in STAT_KEYS:
        for host, n in ((stats or {}).get(key) or {}).items():
            name = "unreachable" if key == "dark" else key
            out.setdefault(str(host), {})[name] = int(n)
    return out


class Execution:
    def __init__(self, spec: RunSpec, loop: asyncio.AbstractEventLoop,
                 on_event: Callable[[dict[str, Any]], None]) -> None:
        self.spec = spec
        self.loop = loop
        self.on_event = on_event
        self._cancel = threading.Event()
        self.started = 0.0
        self.hard_limit = spec.timeout_s + 10.0  # backstop should the runner's timer not fire

    def cancel(self) -> None:
        self._cancel.set()

    def _cancel_callback(self) -> bool:
        return self._cancel.is_set() or time.monotonic() - self.started > self.hard_limit

    def _event_handler(self, ev: dict[str, Any]) -> bool:
        try:
            self.loop.call_soon_threadsafe(self.on_event, ev)
        except RuntimeError:  # the loop is closed: the agent is shutting down
            pass
        return True

    def _run(self) -> Outcome:
        s = self.spec
        self.started = time.monotonic()
        thread, runner = ansible_runner.run_async(
            private_data_dir=str(s.data_dir),
            ident="run",
            binary=str(s.launcher),
            playbook=str(s.playbook),
            cmdline=f"{s.playbook} --forks {s.forks}",
            inventory=[str(p) for p in s.inventories],
            limit=",".join(s.limit) if s.limit else None,
            envvars=s.envvars,
            settings={"pexpect_timeout": PEXPECT_TIMEOUT_S, "suppress_ansible_output": True},
            timeout=max(1, int(s.timeout_s)),
            rotate_artifacts=0,
            quiet=True,
            event_handler=self._event_handler,
            cancel_callback=self._cancel_callback,
        )
        thread.join()
        status = str(runner.status)
        reason = ""
        if status == "canceled" and not self._cancel.is_set():
            status, reason = "timeout", f"exceeded its time limit of {s.timeout_s:.0f} s"
        elif status == "timeout":
            reason = f"exceeded its time limit of {s.timeout_s:.0f} s"
        elif status == "canceled":
            reason = "canceled"
        elif status == "failed":
            reason = f"ansible-playbook exited with {runner.rc}"
        try:
            stats = host_stats(runner.stats)
        except Exception:  # no stats event (killed before the end)
            stats = {}
        return Outcome(status, runner.rc if isinstance(runner.rc, int) else None, stats, reason)

    async def run(self) -> Outcome:
        return await asyncio.to_thread(self._run)


def job_processes(data_dir: str) -> list[int]:
    """Every process of a job: ansible, its workers (which call setsid, so a process-group kill
    misses them) and their children all carry ``FLYPACK_JOB_DIR=<data_dir>``."""
    marker = f"FLYPACK_JOB_DIR={data_dir}".encode() + b"\0"
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if marker in fh.read() + b"\0":
                    found.append(int(entry))
        except OSError:
            continue
    return found


def kill_job_processes(data_dir: str) -> int:
    """SIGKILL every process of a job (see :func:`job_processes`); how many there were."""
    pids = job_processes(data_dir)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(pids)
