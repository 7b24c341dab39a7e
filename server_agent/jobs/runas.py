"""Who ansible runs as, and the job's private data dir.

When the agent runs as root, ansible runs as a dedicated system user (``[jobs] run_as``,
default ``flypack-jobs``). If that user does not exist the agent creates it with ``useradd
--system`` (no home, no login shell, own group): a user of its own, rather than ``nobody``,
which other daemons share, so that files it owns and processes it runs are attributable and
nothing else can signal them. An existing user is used only if it is not uid 0. When the agent
is not root, ansible runs as the agent's own user.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
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


def check_reachable(path: Path, user: RunUser | None) -> None:
    """Every parent of the job dir must be traversable by the run user."""
    if user is None:
        return
    for parent in [path, *path.parents]:
        st = parent.stat()
        if st.st_uid == user.uid:
            continue
        if not st.st_mode & 0o001 and not (st.st_gid == user.gid and st.st_mode & 0o010):
            raise SandboxError(
                f"the playbook user {user.name!r} cannot enter {parent} (mode "
                f"{oct(st.st_mode & 0o777)})",
                f"chmod o+x {parent}, or set [jobs] work_dir to a folder it can reach")


def _reachable(path: Path, user: RunUser) -> bool:
    try:
        check_reachable(path.parent, user)
    except SandboxError:
        return False
    mode = path.stat().st_mode
    return bool(mode & 0o001 or (path.stat().st_gid == user.gid and mode & 0o010))


def choose_python(user: RunUser | None) -> tuple[str, str | None]:
    """The interpreter for ansible-playbook and, if it is not the venv's own, a PYTHONPATH.

    The venv's interpreter may live where the playbook user cannot go (a pyenv build under
    /root): then the system's python of the same version runs ansible with the venv's
    site-packages on PYTHONPATH.
    """
    own = Path(os.path.realpath(sys.executable))
    if user is None or _reachable(own, user):
        return sys.executable, None
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    alt = Path(f"/usr/bin/python{ver}")
    if alt.exists() and _reachable(Path(os.path.realpath(alt)), user):
        import site

        return str(alt), os.pathsep.join(site.getsitepackages())
    raise SandboxError(
        f"the playbook user {user.name!r} cannot run the agent's python ({own}) and there is "
        f"no /usr/bin/python{ver}",
        "install the agent into a venv built from the system's python3, or make the "
        "interpreter reachable for that user")


def chown_tree(root: Path, user: RunUser | None) -> None:
    if user is None:
        return
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, user.uid, user.gid)
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), user.uid, user.gid, follow_symlinks=False)


def write_launcher(bin_dir: Path, user: RunUser | None, memory_mb: int, cpu_s: int,
                   pidfile: Path, prefix: tuple[str, ...] = ()) -> Path:
    """The 'binary' ansible-runner starts: [``prefix``: the systemd scope, see
    :mod:`server_agent.jobs.limits`] the sandbox module, then ansible-playbook."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    playbook_bin = Path(sys.executable).with_name("ansible-playbook")
    python, _ = choose_python(user)
    args = [*prefix, sys.executable, "-m", "server_agent.jobs.sandbox",
            "--as", str(memory_mb * 1024 * 1024), "--cpu", str(cpu_s),
            "--pidfile", str(pidfile)]
    if user is not None:
        args += ["--uid", str(user.uid), "--gid", str(user.gid)]
    args += ["--", python, str(playbook_bin)]
    path = bin_dir / "ansible-playbook"
    path.write_text("#!/bin/sh\nexec " + " ".join(shlex.quote(a) for a in args) + ' "$@"\n')
    path.chmod(0o755)
    return path
