"""The ansible process's launcher: limits and an unprivileged user, then exec.

ansible-runner starts ``<job dir>/bin/ansible-playbook`` (a two-line script, see
:func:`server_agent.jobs.runas.write_launcher`) which runs this module::

    python -m server_agent.jobs.sandbox --uid U --gid G --as BYTES --cpu S --pidfile F -- CMD...

It records its PID (kept by exec: the agent kills a stray group after a crash), sets
RLIMIT_AS / RLIMIT_CPU / RLIMIT_CORE (inherited by every ansible fork), drops to the given user
when started as root (root is not bound by RLIMIT_NPROC and may read the agent's secrets), asks
the kernel to SIGKILL it when the agent dies, and execs the command. Standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="flypack-sandbox")
    p.add_argument("--uid", type=int)
    p.add_argument("--gid", type=int)
    p.add_argument("--as", dest="as_bytes", type=int, required=True)
    p.add_argument("--cpu", type=int, required=True)
    p.add_argument("--pidfile", required=True)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        p.error("no command")
    with open(a.pidfile, "w", encoding="ascii") as fh:
        fh.write(f"{os.getpid()}\n")
    resource.setrlimit(resource.RLIMIT_AS, (a.as_bytes, a.as_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (a.cpu, a.cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if a.uid is not None and os.geteuid() == 0:
        gid = a.gid if a.gid is not None else a.uid
        os.setgroups([])
        os.setgid(gid)
        os.setuid(a.uid)
        if os.geteuid() == 0 or os.getuid() == 0:
            print("flypack-sandbox: could not drop root", file=sys.stderr)
            return 126
    try:  # after setuid: a credential change clears the parent-death signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    try:
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        print(f"flypack-sandbox: cannot run {cmd[0]}: {exc.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
