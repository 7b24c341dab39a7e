"""Stopping a child process the agent (or its demo) started: by its PID, never by name."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_child(proc: subprocess.Popen[Any] | None, grace_s: float = 10.0) -> None:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL; nothing to do if it already ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
