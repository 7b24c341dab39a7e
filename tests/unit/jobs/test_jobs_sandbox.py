"""The launcher: rlimits on the ansible process, and the drop to an unprivileged user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(tmp_path: Path, *extra: str) -> list[str]:
    pidfile = tmp_path / "pid"
    res = subprocess.run(
        [sys.executable, "-m", "server_agent.jobs.sandbox", "--as", str(512 * 1024 * 1024),
         "--cpu", "77", "--pidfile", str(pidfile), *extra, "--",
         "sh", "-c", "ulimit -v; ulimit -t; ulimit -c; id -u; echo $$"],
        capture_output=True, text=True, timeout=30, check=True)
    out = res.stdout.split()
    assert int(pidfile.read_text()) == int(out[4])  # the PID survives exec
    return out


def test_limits_apply_to_the_command(tmp_path: Path) -> None:
    out = _run(tmp_path)
    assert out[:3] == [str(512 * 1024), "77", "0"]


def test_drops_root(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root drops privileges")
    out = _run(tmp_path, "--uid", "65534", "--gid", "65534")
    assert out[3] == "65534"
