"""Helpers for the jobs tests and benchmark: a job dir the playbook user can reach, an agent
in-process with the simulated segment, a real sshd on 127.0.0.1 with key auth, and a copy of
the repository with its venv inside a 0700 "home" (issue 14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.config import parse_config
from server_agent.contract import Role
from server_agent.runtime import Services, build_services
from tests.support import (
    PASSWORDS,
    ROOT,
    AgentProc,
    free_port,
    require_binary,
    stop_process,
    wait_port,
)

SLEEP_CATALOG = """
playbooks:
  - name: sleeper
    title: Sleeps on the agent
    file: sleeper.yml
    role: operator
    targets: [agent]
    timeout_s: {timeout}
    vars:
      type: object
      properties:
        seconds: {{type: integer, minimum: 1, maximum: 600, default: 60}}
"""
SLEEP_PLAYBOOK = """---
- name: Sleep
  hosts: agent
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
    - name: Sleep a while
      ansible.builtin.command:
        argv: [sleep, "{{ seconds }}"]
      changed_when: false
"""


@contextmanager
def reachable_tmp() -> Iterator[Path]:
    """A temp dir under /tmp that the unprivileged playbook user can enter (0711)."""
    path = Path(tempfile.mkdtemp(prefix="flypack-jobs-test-"))
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sleep_catalog(folder: Path, timeout: int = 120) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.yml").write_text(SLEEP_CATALOG.format(timeout=timeout))
    (folder / "sleeper.yml").write_text(SLEEP_PLAYBOOK)
    return folder


def agent_services(root: Path, **tables: Any) -> Services:
    data: dict[str, Any] = {"agent": {"state_dir": str(root / "state"), "flypack": "ft"},
                            "jobs": {"work_dir": str(root / "jobs")}}
    for k, v in tables.items():
        data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    svc = build_services(parse_config(data))
    have = {name for name, _ in svc.auth.users()}
    for role, pw in PASSWORDS.items():
        if role not in have:
            svc.auth.add_user(role, Role(role), pw)
    return svc


@contextmanager
def agent_client(svc: Services) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(svc)) as c:
        r = c.post("/api/v1/auth/login",
                   json={"username": "operator", "password": PASSWORDS["operator"]})
        yield c, {"Authorization": f"Bearer {r.json()['access_token']}"}


def wait_job(c: TestClient, h: dict[str, str], job_id: int, timeout: float = 90,
             until: str | None = None) -> dict[str, Any]:
    """Poll the job (0.1 s, bounded) until it ended, or until an event of kind ``until``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/v1/jobs/{job_id}", headers=h).json()
        if until is not None:
            evs = c.get(f"/api/v1/jobs/{job_id}/events", headers=h).json()["events"]
            if any(e["event"] == until for e in evs):
                return job
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not get there within {timeout} s")


def events(c: TestClient, h: dict[str, str], job_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    for _ in range(100):
        page = c.get(f"/api/v1/jobs/{job_id}/events", params={"after": after, "limit": 500},
                     headers=h).json()
        out += page["events"]
        if page["next_after"] is None:
            return out
        after = page["next_after"]
    return out


@contextmanager
def sshd(tmp: Path, password_auth: bool = False) -> Iterator[tuple[int, str]]:
    """A real sshd on 127.0.0.1:<free port>, its own config, key auth for root only
    (``password_auth``: passwords are tried too, e.g. to test a refused one).
    Yields (port, private key text)."""
    binary = require_binary("sshd")
    keygen = require_binary("ssh-keygen")
    d = tmp / "sshd"
    d.mkdir(mode=0o700)
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")],
                   check=True)
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client_key")],
                   check=True)
    shutil.copyfile(d / "client_key.pub", d / "authorized_keys")
    os.chmod(d / "authorized_keys", 0o600)
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile none\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\n"
        f"PasswordAuthentication {'yes' if password_auth else 'no'}\n"
        "KbdInteractiveAuthentication no\nUsePAM no\n"
        f"PermitRootLogin {'yes' if password_auth else 'prohibit-password'}\n"
        "AllowUsers root\nStrictModes no\nSubsystem sftp internal-sftp\nMaxStartups 20\n")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
    log = (d / "sshd.log").open("wb")
    proc = subprocess.Popen([binary, "-D", "-e", "-f", str(d / "sshd_config")], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_port("127.0.0.1", port, timeout=10)
        yield port, (d / "client_key").read_text()
    finally:
        stop_process(proc)
        log.close()


# --- a clone and its venv in a 0700 home ----------------------------------------------------

@dataclass(frozen=True)
class HomeCopy:
    home: Path  # 0700, owned by the agent's user: nobody else can enter it
    repo: Path  # <home>/flypack: server_agent/ and playbooks/ (what the agent runs)
    python: Path  # <repo>/.venv/bin/python

    def agent(self, *args: str) -> list[str]:
        """argv of ``flypack-agent ARGS`` from this copy (the venv's script, by its python)."""
        return [str(self.python), str(self.python.with_name("flypack-agent")), *args]


def _rewrite(path: Path, old: str, new: str) -> None:
    """Replace text in a hard-linked file without touching the original: a new inode."""
    text = path.read_text()
    if old in text:
        path.unlink()
        path.write_text(text.replace(old, new))


def home_copy(parent: Path, *, owner: tuple[int, int] | None = None,
              base_python: str | None = None) -> HomeCopy:
    """The repository's code and playbooks and the running venv, under ``parent/home`` (0700),
    as a clone in root's (or a user's) home has them.

    The venv is ``cp -al`` (hard links: a second, instant; every file keeps its inode, owner
    and mode, so only the path decides who reaches it); its editable-install finder is
    rewritten to the copy's source. ``owner``: the home and every directory in it belong to
    that (uid, gid) (files stay root's, world-readable, as the venv has them). ``base_python``:
    the venv's interpreter is re-pointed there (a user cannot run root's pyenv build)."""
    home = parent / "home"
    home.mkdir(mode=0o700)
    repo = home / "flypack"
    repo.mkdir()
    for name in ("server_agent", "playbooks", "desktop", "scripts"):
        shutil.copytree(ROOT / name, repo / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = repo / ".venv"
    subprocess.run(["cp", "-al", sys.prefix, str(venv)], check=True)
    for site_dir in venv.glob("lib/python*/site-packages"):
        for f in [*site_dir.glob("__editable__*"), *site_dir.glob("*.pth")]:
            _rewrite(f, str(ROOT), str(repo))
    if base_python is not None:
        for link in (venv / "bin").iterdir():
            if link.is_symlink() and link.name.startswith("python"):
                link.unlink()
                link.symlink_to(base_python)
        cfg = venv / "pyvenv.cfg"
        lines = [f"home = {Path(base_python).parent}" if ln.startswith("home =") else ln
                 for ln in cfg.read_text().splitlines()]
        cfg.unlink()
        cfg.write_text("\n".join(lines) + "\n")
    if owner is not None:
        for dirpath, dirnames, filenames in os.walk(home):
            os.chown(dirpath, *owner)
            for n in filenames:  # the files written here, not the hard links
                made = os.path.join(dirpath, n)
                if os.lstat(made).st_nlink == 1:
                    os.chown(made, *owner, follow_symlinks=False)
            for n in dirnames:
                if os.path.islink(os.path.join(dirpath, n)):
                    os.chown(os.path.join(dirpath, n), *owner, follow_symlinks=False)
    os.chmod(home, 0o700)
    return HomeCopy(home, repo, venv / "bin" / "python")


# --- a real agent process (tests.support.AgentProc) over HTTP, as the operator -----------


def agent_api(agent: AgentProc, method: str, path: str, **kw: Any) -> Any:
    """``/api/v1{path}`` of a real agent as the operator; the call must succeed."""
    h = {"Authorization": f"Bearer {agent.token('operator')}"}
    r = httpx.request(method, f"{agent.url}/api/v1{path}", headers=h, timeout=15, **kw)
    assert r.status_code < 300, r.text
    return r.json()


def run_job(agent: AgentProc, body: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
    """Start a job and poll it (0.3 s, bounded) until it ended."""
    jid = agent_api(agent, "POST", "/jobs", json=body)["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = agent_api(agent, "GET", f"/jobs/{jid}")
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.3)
    raise TimeoutError(f"job {jid} did not end within {timeout} s")


def job_events(agent: AgentProc, jid: int) -> list[dict[str, Any]]:
    return list(agent_api(agent, "GET", f"/jobs/{jid}/events",
                          params={"limit": 1000})["events"])
