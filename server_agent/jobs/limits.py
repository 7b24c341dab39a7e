"""Which fence bounds an ansible process: a systemd scope (cgroup) or rlimits only (design §9).

    plan_limits(memory_mb, cpu_quota_percent, enabled) -> LimitPlan(kind, prefix, reason)

Where systemd is PID 1 (``/run/systemd/system`` exists), ``systemd-run`` is on PATH and the
agent is root (a scope on the system manager needs it), the launcher runs under::

    systemd-run --scope --quiet --collect -p MemoryMax=<memory_limit_mb>M \\
        -p CPUQuota=<cpu_quota_percent>% -- <sandbox ...>

``systemd-run --scope`` execs the command in place (same PID), so the sandbox's pidfile and
parent-death signal keep working, and the cgroup bounds the whole job: every ansible fork
together. The sandbox's per-process RLIMIT_AS / RLIMIT_CPU stay as a second fence. Elsewhere
(containers, CI, this lab machine) only the rlimits apply. The detection takes its edges as
arguments so tests can fake them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SYSTEMD_RUNTIME = Path("/run/systemd/system")


@dataclass(frozen=True)
class LimitPlan:
    kind: Literal["cgroup", "rlimit"]
    prefix: tuple[str, ...]  # put before the sandbox command; () for rlimits only
    reason: str


def systemd_is_pid1(runtime_dir: Path = SYSTEMD_RUNTIME) -> bool:
    """sd_booted(3): systemd is the init system iff this directory exists."""
    return runtime_dir.is_dir()


def plan_limits(memory_mb: int, cpu_quota_percent: int, enabled: bool = True, *,
                runtime_dir: Path = SYSTEMD_RUNTIME,
                which: Callable[[str], str | None] = shutil.which,
                euid: Callable[[], int] = os.geteuid) -> LimitPlan:
    if not enabled:
        return LimitPlan("rlimit", (), "[jobs].cgroup_limits is off")
    if not systemd_is_pid1(runtime_dir):
        return LimitPlan("rlimit", (), f"systemd is not PID 1 (no {runtime_dir})")
    exe = which("systemd-run")
    if exe is None:
        return LimitPlan("rlimit", (), "systemd-run is not on PATH")
    if euid() != 0:
        return LimitPlan("rlimit", (), "the agent is not root (a system scope needs root)")
    return LimitPlan("cgroup", (exe, "--scope", "--quiet", "--collect",
                                "-p", f"MemoryMax={memory_mb}M",
                                "-p", f"CPUQuota={cpu_quota_percent}%", "--"),
                     "systemd is PID 1: a transient scope (cgroup) per job, rlimits inside")
