"""Who ansible runs as, and the job's private data dir.

When the agent runs as root, ansible runs as a dedicated system user (``[jobs] run_as``,
default ``flypack-jobs``). If that user does not exist the agent creates it with ``useradd
--system`` (no home, no login shell, own group): a user of its own, rather than ``nobody``,
which other daemons share, so that files it owns and processes it runs are attributable and
nothing else can signal them. An existing user is used only if it is not uid 0. When the agent
is not root, ansible runs as the agent's own user. Whether that user can reach what a job
needs, and what happens when it cannot, is :mod:`server_agent.jobs.reach`.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from server_agent.jobs.errors import SandboxError


@dataclass(frozen=True)
class RunUser:
    name: str
    uid: int
    gid: int


def resolve_run_user(name: str) -> RunUser | None:
    """The user ansible runs as; ``None`` = the agent's own user (agent not root)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        res = subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home", "--home-dir",
             "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
             "flypack agent - runs playbooks", name],
            capture_output=True, text=True, timeout=30, check=False)
        if res.returncode != 0:
            raise SandboxError(f"cannot create the system user {name!r} for playbooks: "
                               f"{res.stderr.strip() or res.returncode}",
                               f"create it yourself (useradd --system {name}) or set "
                               "[jobs] run_as to an existing unprivileged user") from None
        pw = pwd.getpwnam(name)
    if pw.pw_uid == 0 or pw.pw_gid == 0:
        raise SandboxError(f"[jobs] run_as = {name!r} is a root account",
                           "choose an unprivileged system user")
    return RunUser(name, pw.pw_uid, pw.pw_gid)


def can_enter(st: os.stat_result, user: RunUser) -> bool:
    """POSIX search permission on a directory for ``user`` (no supplementary groups: the
    sandbox clears them). The first class that matches decides, as in the kernel."""
    if user.uid == 0:
        return True
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == user.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def blocked_at(path: Path, user: RunUser) -> tuple[Path, int] | None:
    """The first existing directory on the way to ``path`` (``path`` included if it is a
    directory) that ``user`` cannot enter, with its mode; None if nothing blocks (a missing
    part is created later by the agent, with a mode it chooses)."""
    path = Path(os.path.abspath(path))
    for d in [*reversed(path.parents), path]:
        try:
            st = d.stat()
        except FileNotFoundError:
            return None
        except OSError:
            return d, 0
        if stat.S_ISDIR(st.st_mode) and not can_enter(st, user):
            return d, stat.S_IMODE(st.st_mode)
    return None


def why_blocked(path: Path, user: RunUser) -> str:
    """``"'flypack-jobs' cannot enter /root (mode 0700)"``, or "" if nothing blocks."""
    hit = blocked_at(path, user)
    return "" if hit is None else f"{user.name!r} cannot enter {hit[0]} (mode {hit[1]:04o})"


def check_reachable(path: Path, user: RunUser | None) -> None:
    """Every directory on the way to the job dir must be enterable by the run user."""
    if user is None:
        return
    if why := why_blocked(path, user):
        raise SandboxError(f"the playbook user {why}",
                           "unset [jobs] work_dir (the agent then picks a folder it can "
                           "reach) or set it to one; see docs/jobs.md")


def chown_tree(root: Path, user: RunUser | None) -> None:
    if user is None:
        return
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, user.uid, user.gid)
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), user.uid, user.gid, follow_symlinks=False)


def write_launcher(bin_dir: Path, user: RunUser | None, memory_mb: int, cpu_s: int,
                   pidfile: Path, prefix: tuple[str, ...] = (), python: str | None = None,
                   playbook_bin: str | None = None) -> Path:
    """The 'binary' ansible-runner starts: [``prefix``: the systemd scope, see
    :mod:`server_agent.jobs.limits`] the sandbox module (run by the agent's own python, as
    root), then ``python playbook_bin`` (the planned runtime, see
    :mod:`server_agent.jobs.reach`; default: the venv's) as ``user``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    python = python or sys.executable
    playbook_bin = playbook_bin or str(Path(sys.executable).with_name("ansible-playbook"))
    args = [*prefix, sys.executable, "-m", "server_agent.jobs.sandbox",
            "--as", str(memory_mb * 1024 * 1024), "--cpu", str(cpu_s),
            "--pidfile", str(pidfile)]
    if user is not None:
        args += ["--uid", str(user.uid), "--gid", str(user.gid)]
    args += ["--", python, playbook_bin]
    path = bin_dir / "ansible-playbook"
    path.write_text("#!/bin/sh\nexec " + " ".join(shlex.quote(a) for a in args) + ' "$@"\n')
    path.chmod(0o755)
    return path
