"""The launcher: rlimits on the ansible process, the drop to an unprivileged user, and the
systemd scope (cgroup limits) where systemd is PID 1."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server_agent.jobs.limits import LimitPlan, plan_limits
from server_agent.jobs.runas import write_launcher
from tests.support import require_root


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
    require_root("only root drops privileges")
    out = _run(tmp_path, "--uid", "65534", "--gid", "65534")
    assert out[3] == "65534"


# --- cgroup (systemd scope) or rlimits only: the decision and the exact command ------------

def _plan(tmp_path: Path, *, pid1: bool = True, exe: str | None = "/usr/bin/systemd-run",
          euid: int = 0, enabled: bool = True) -> LimitPlan:
    runtime = tmp_path / "run-systemd-system"
    if pid1:
        runtime.mkdir(exist_ok=True)
    return plan_limits(2048, 150, enabled, runtime_dir=runtime,
                       which=lambda name: exe if name == "systemd-run" else None,
                       euid=lambda: euid)


def test_systemd_pid1_gives_a_scope_with_memory_max_and_cpu_quota(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert plan.kind == "cgroup"
    assert plan.prefix == ("/usr/bin/systemd-run", "--scope", "--quiet", "--collect",
                           "-p", "MemoryMax=2048M", "-p", "CPUQuota=150%", "--")


@pytest.mark.parametrize(("kw", "reason"), [
    ({"pid1": False}, "systemd is not PID 1"),
    ({"exe": None}, "systemd-run is not on PATH"),
    ({"euid": 1000}, "not root"),
    ({"enabled": False}, "cgroup_limits is off"),
])
def test_otherwise_rlimits_only(tmp_path: Path, kw: dict[str, Any], reason: str) -> None:
    plan = _plan(tmp_path, **kw)
    assert (plan.kind, plan.prefix) == ("rlimit", ())
    assert reason in plan.reason


def test_launcher_runs_the_sandbox_inside_the_scope(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    script = write_launcher(tmp_path / "bin", None, 2048, 900, tmp_path / "pid", plan.prefix)
    line = script.read_text().splitlines()[1]
    argv = shlex.split(line)
    n = len(plan.prefix) + 1
    assert argv[0] == "exec" and tuple(argv[1:n]) == plan.prefix
    assert argv[n:n + 3] == [sys.executable, "-m", "server_agent.jobs.sandbox"]
    assert argv[n + 3:n + 7] == ["--as", str(2048 * 1024 * 1024), "--cpu", "900"]  # second fence
    plain = write_launcher(tmp_path / "bin2", None, 2048, 900, tmp_path / "pid")
    assert shlex.split(plain.read_text().splitlines()[1])[1] == sys.executable


def test_this_machine_uses_the_real_detection() -> None:
    """The lab has no systemd as PID 1: only the rlimits path runs here (docs/jobs.md)."""
    plan = plan_limits(2048, 100)
    if os.path.isdir("/run/systemd/system") and shutil.which("systemd-run") and \
            os.geteuid() == 0:
        assert plan.kind == "cgroup"
    else:
        assert (plan.kind, plan.prefix) == ("rlimit", ())
