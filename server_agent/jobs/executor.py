"""One playbook run: ansible-runner ``run_async`` on a worker thread.

    worker thread (ansible-runner)                event loop
    event_handler(ev) ──call_soon_threadsafe──►   on_event(ev): persist, then publish
    cancel_callback()  ◄── polled every 0.2 s ──  cancel(): sets a threading.Event

A failed run's ``reason`` says why (:func:`explain_failure`): the first failed task (host, task,
message), or, when ansible stopped before any task (it could not start, a bad playbook), the
error lines it printed, e.g. ``can't open file '…/ansible-playbook': [Errno 13] Permission
denied`` -- never only "ansible-playbook exited with 2".

``cancel_callback`` is always set (without one ansible-runner replaces the process's SIGINT and
SIGTERM handlers) and ``pexpect_timeout`` is 0.2 s (default 5 s), so a cancel or a time limit
ends the whole ansible process group (SIGKILL to the group) within a second. ``event_handler``
returns True, else ansible-runner writes no event files (and no stats).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

PEXPECT_TIMEOUT_S = 0.2
REASON_MAX = 600  # characters of a failure's explanation in the job's reason
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
        self.failures: list[tuple[str, str, str]] = []  # (host, task, message), first few
        self.failed_hosts: set[str] = set()
        self.hard_limit = spec.timeout_s + 10.0  # backstop should the runner's timer not fire

    def cancel(self) -> None:
        self._cancel.set()

    def _cancel_callback(self) -> bool:
        return self._cancel.is_set() or time.monotonic() - self.started > self.hard_limit

    def _event_handler(self, ev: dict[str, Any]) -> bool:
        if ev.get("event") in ("runner_on_failed", "runner_on_unreachable"):
            data = ev.get("event_data") or {}
            if not data.get("ignore_errors"):
                host = str(data.get("host") or "?")
                self.failed_hosts.add(host)
                if len(self.failures) < 3:
                    self.failures.append((host, str(data.get("task") or "?"),
                                          task_message(data.get("res"), ev.get("stdout"))))
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
            reason = explain_failure(runner.rc, _read_text(s.data_dir / "artifacts" / "run" /
                                                           "stdout"),
                                     self.failures, len(self.failed_hosts))
        try:
            stats = host_stats(runner.stats)
        except Exception:  # no stats event (killed before the end)
            stats = {}
        return Outcome(status, runner.rc if isinstance(runner.rc, int) else None, stats, reason)

    async def run(self) -> Outcome:
        return await asyncio.to_thread(self._run)


def _read_text(path: Path, limit: int = 200_000) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# lines that carry the cause, most telling first
_CAUSE = [
    re.compile(r"^(ERROR!|\[ERROR\]|fatal:|flypack-sandbox:)"),
    re.compile(r"can't open file|Permission denied|No such file|not found|cannot |"
               r"[A-Za-z]+(Error|Exception)\b:"),
    re.compile(r"error", re.I),
]


def task_message(res: Any, stdout: Any = None) -> str:
    """A failed task's message: ``msg``, else stderr, else ansible's own line."""
    text = ""
    if isinstance(res, dict):
        for key in ("msg", "stderr", "module_stderr", "reason"):
            if res.get(key):
                text = str(res[key])
                break
    if not text and stdout:
        text = str(stdout)
    text = " ".join(_ANSI.sub("", text).split())
    return text[:240] + ("…" if len(text) > 240 else "")


def error_lines(stdout: str, limit: int = 3) -> list[str]:
    """The lines of ansible's output that say why it stopped: error-looking lines (the first
    kind that matches), with a Python traceback's last line; else the first lines."""
    lines = [" ".join(_ANSI.sub("", ln).split()) for ln in stdout.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    picked: list[str] = []
    if any(ln.startswith("Traceback (most recent call last)") for ln in lines):
        picked.append(lines[-1])
    for pattern in _CAUSE:
        hits = [ln for ln in lines if pattern.search(ln) and ln not in picked]
        if hits:
            picked += hits[: max(0, limit - len(picked))]
            break
    return picked or lines[:limit]


def explain_failure(rc: Any, stdout: str, failures: list[tuple[str, str, str]] | None = None,
                    failed_hosts: int = 0) -> str:
    """The reason of a failed run: ``ansible-playbook exited with N: <the cause>``.

    The cause is the first failed task (``task 'T' failed on HOST: msg``, and how many hosts
    failed) when tasks failed, else the error lines of the output (ansible could not start,
    the playbook is invalid, ...)."""
    head = f"ansible-playbook exited with {rc}"
    if failures:
        host, task, msg = failures[0]
        text = f"task {task!r} failed on {host}" + (f": {msg}" if msg else "")
        if failed_hosts > 1:
            text += f" (and on {failed_hosts - 1} more host{'s' if failed_hosts > 2 else ''})"
    else:
        text = " | ".join(error_lines(stdout)) or "it printed nothing (see the job's events)"
    text = f"{head}: {text}"
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


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
