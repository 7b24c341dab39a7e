"""Playbooks from a clone in a 0700 home (issue 14, finding 1), with real agents.

The repository's code and its venv are copied (hard links, see tests.jobs_support.home_copy)
into ``<tmp>/home`` (0700), the agent's state dir inside it, as a fresh clone in root's home
has them. Then:

- root: the playbook user cannot enter the home: the agent must still run the
  connectivity check to ``successful``, keep the privilege separation (a system python with a
  read-only copy of ansible, job dirs in a temporary dir outside the home), log each fallback,
  chmod nothing, and remove the temporary dir when it stops;
- a normal user (``nobody``, its own 0700 home, a venv on /usr/bin/python3.X): runs it too;
- no python the playbook user can run (in-process, the system interpreters hidden): ansible
  runs as the agent's user and every job's reason says so;
- a playbook that stops before any task, and one whose task fails: the reason says why.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from server_agent.jobs import reach
from server_agent.runtime import Services
from tests.jobs_support import (
    HomeCopy,
    agent_client,
    agent_services,
    events,
    home_copy,
    job_events,
    reachable_tmp,
    run_job,
    sleep_catalog,
    wait_job,
)
from tests.sim_support import sim_section
from tests.support import (
    PASSWORDS,
    AgentProc,
    free_port,
    require_real,
    require_root,
    stop_process,
    wait_http,
)

pytestmark = pytest.mark.slow
NOBODY = (65534, 65534)
SYSTEM_PYTHON = f"/usr/bin/python{reach.VERSION}"


def _free_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sim() -> dict[str, Any]:
    """A [sim] table on a random 127.x block (never the demo's 127.77), free ports."""
    sec = sim_section(tcp_port=free_port(), http_port=free_port(), echo_port=_free_udp())
    return sec.model_dump(mode="json", exclude_none=True)


def _sim_toml() -> tuple[str, int]:
    sim = _sim()
    lines = [f"{k} = {json.dumps(v)}" for k, v in sim.items()]  # str, int, bool: TOML as JSON
    return "[sim]\n" + "\n".join(lines) + "\n", int(sim["tcp_port"])


@contextmanager
def home_agent(copy: HomeCopy, extra: str, as_user: tuple[int, int] | None = None
               ) -> Iterator[AgentProc]:
    """``flypack-agent serve`` from the copy (its venv's python), state in the home, as root
    or as ``as_user``; users of every role."""
    port = free_port()
    cfg = copy.home / "agent.toml"
    cfg.write_text(f'[agent]\nflypack = "home-test"\nlisten = "127.0.0.1"\nport = {port}\n'
                   f'state_dir = "{copy.home / "state"}"\n' + extra)
    kw: dict[str, Any] = {}
    if as_user is not None:
        os.chown(cfg, *as_user)
        kw = {"user": as_user[0], "group": as_user[1], "extra_groups": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env |= {"HOME": str(copy.home), "PATH": f"{copy.python.parent}:/usr/bin:/bin"}
    for role, pw in PASSWORDS.items():
        subprocess.run(copy.agent("user", "add", role, "--role", role, "--config", str(cfg)),
                       input=pw + "\n", text=True, check=True, capture_output=True,
                       cwd=copy.home, env=env, timeout=120, **kw)
    log = copy.home.parent / "agent.log"  # outside the home: readable after the test
    with log.open("wb") as fh:
        proc = subprocess.Popen(copy.agent("serve", "--config", str(cfg)), stdout=fh,
                                stderr=subprocess.STDOUT, cwd=copy.home, env=env, **kw)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v1/health", timeout=60, proc=proc)
        yield AgentProc(url, cfg, copy.home / "state", proc, log)
    except Exception:
        print(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop_process(proc, timeout=20)


def _work_dir(log: Path) -> Path:
    m = re.search(r"jobs: ansible runs as .*; job dirs in (\S+)", log.read_text())
    assert m, log.read_text()[-3000:]
    return Path(m.group(1))


def _ansible_uid(job_dir: Path) -> int:
    """Who ran ansible-playbook: it makes ``$HOME/.ansible`` (HOME is the job's ``home/``)
    as the user it runs as (ansible-runner, root, rewrites the event files)."""
    made = job_dir / "home" / ".ansible"
    assert made.is_dir(), f"ansible made no {made}"
    return made.stat().st_uid


def _connectivity(agent: AgentProc, tcp: int) -> dict[str, Any]:
    job = run_job(agent, {"playbook": "connectivity-check", "limit": ["routers"],
                           "vars": {"ports": [tcp], "count": 1}})
    assert job["status"] == "successful", job
    assert sorted(job["stats"]) == ["rtr-01", "rtr-02", "rtr-03", "rtr-04"]
    evs = job_events(agent, job["id"])
    oks = {e["task"] for e in evs if e["event"] == "runner_on_ok"}
    assert {"Probe the device over TCP", "Report the device", "Summarise the group"} <= oks
    summary = [e for e in evs if e["task"] == "Summarise the group"
               and e["event"] == "runner_on_ok"]
    assert "4 of 4 reachable" in summary[0]["stdout"]
    return job


def test_root_agent_from_a_0700_home_keeps_the_playbook_user(tmp_path: Path) -> None:
    require_root("the agent as root, ansible as the unprivileged flypack-jobs")
    require_real(os.path.exists(SYSTEM_PYTHON),
                 f"no {SYSTEM_PYTHON}: the playbook user has no python it can run here "
                 "(test_no_python_it_can_run_... covers that fallback)")
    sim, tcp = _sim_toml()
    with reachable_tmp() as parent:
        copy = home_copy(parent)
        with home_agent(copy, sim) as agent:
            job = _connectivity(agent, tcp)
            assert job["reason"] == ""
            text = agent.log.read_text()
            work = _work_dir(agent.log)
            assert not work.is_relative_to(copy.home) and work.is_dir()
            assert re.search(r"WARNING flypack.jobs: jobs: the playbook user 'flypack-jobs' "
                             rf"cannot enter {re.escape(str(copy.home))} \(mode 0700\).*"
                             "FALLBACK", text), text[-3000:]
            assert "privilege separation kept" in text
            assert "ansible runs as flypack-jobs" in text
            jobs_uid = pwd.getpwnam("flypack-jobs").pw_uid
            assert _ansible_uid(work / str(job["id"])) == jobs_uid
        assert not work.exists()  # the temporary work dir went with the agent
        assert copy.home.stat().st_mode & 0o777 == 0o700  # nothing chmod-ed


def test_normal_user_agent_from_its_own_0700_home(tmp_path: Path) -> None:
    require_root("to set up a home for nobody and start the agent as nobody")
    require_real(os.path.exists(SYSTEM_PYTHON), f"no {SYSTEM_PYTHON} for a venv nobody can run")
    sim, tcp = _sim_toml()
    with reachable_tmp() as parent:
        copy = home_copy(parent, owner=NOBODY, base_python=SYSTEM_PYTHON)
        with home_agent(copy, sim, as_user=NOBODY) as agent:
            job = _connectivity(agent, tcp)
            assert job["reason"] == ""
            work = _work_dir(agent.log)
            assert work == copy.home / "state" / "jobs"  # its own: no fallback needed
            assert "ansible runs as the agent's own user (nobody)" in agent.log.read_text()
            assert "FALLBACK" not in agent.log.read_text()
            assert _ansible_uid(work / str(job["id"])) == NOBODY[0]
        assert copy.home.stat().st_mode & 0o777 == 0o700


def _in_process_agent_in_a_0700_home(root: Path) -> tuple[Path, Services]:
    """Agent services whose state dir sits in a 0700 "home" under ``root``, no work_dir set,
    and a catalog with the one-task ``sleeper`` playbook."""
    home = root / "home"
    home.mkdir(mode=0o700)
    folder = sleep_catalog(root / "catalog")
    return home, agent_services(root, agent={"state_dir": str(home / "state")},
                                jobs={"work_dir": None, "playbooks_dir": str(folder)})


def test_no_python_it_can_run_falls_back_to_the_agent_user_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    require_root("the agent as root, flypack-jobs unable to run python")
    monkeypatch.setattr(reach, "SYSTEM_PYTHONS", ())  # only the venv's and its base remain
    with reachable_tmp() as root:
        home, svc = _in_process_agent_in_a_0700_home(root)
        assert svc.jobs is not None
        runner = svc.jobs.runner
        with agent_client(svc) as (c, h):
            deadline = time.monotonic() + 120
            while runner.plan is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert runner.plan is not None, runner.plan_error
            if runner.plan.kind != "agent-user":
                pytest.skip(f"flypack-jobs can run this venv's interpreter here "
                            f"({runner.plan.summary()}): nothing to fall back from")
            assert runner.plan.work_dir == home / "state" / "jobs"
            jid = c.post("/api/v1/jobs", json={"playbook": "sleeper", "vars": {"seconds": 1}},
                         headers=h).json()["id"]
            job = wait_job(c, h, jid, timeout=150)
            assert job["status"] == "successful", job
            assert "ran as root (the agent's user), not flypack-jobs" in job["reason"]
            assert "FALLBACK" in job["reason"]
            assert _ansible_uid(runner.job_dir(jid)) == 0
            assert any(e["event"] == "runner_on_ok" for e in events(c, h, jid))


def test_state_dir_out_of_reach_gives_a_temporary_work_dir_that_goes_with_the_agent() -> None:
    require_root("the agent as root, ansible as flypack-jobs")
    with reachable_tmp() as root:
        home, svc = _in_process_agent_in_a_0700_home(root)
        assert svc.jobs is not None
        runner = svc.jobs.runner
        with agent_client(svc) as (c, h):
            jid = c.post("/api/v1/jobs", json={"playbook": "sleeper", "vars": {"seconds": 1}},
                         headers=h).json()["id"]
            job = wait_job(c, h, jid, timeout=150)
            assert runner.plan is not None
            work = runner.plan.work_dir
            assert runner.plan.temporary_work_dir and not work.is_relative_to(home)
            assert (work / str(jid)).is_dir() and (work / reach.OWNER_FILE).is_file()
            if runner.plan.separated:
                assert job["status"] == "successful" and job["reason"] == "", job
                assert _ansible_uid(work / str(jid)) == pwd.getpwnam("flypack-jobs").pw_uid
            else:  # no python flypack-jobs can run on this machine: the agent's user
                assert job["status"] == "successful" and "FALLBACK" in job["reason"], job
        assert not work.exists()  # removed when the agent stopped
        assert home.stat().st_mode & 0o777 == 0o700 and not (home / "state" / "jobs").exists()


CATALOG = """
playbooks:
  - name: broken
    title: Names a module that does not exist
    file: broken.yml
    role: operator
    targets: [agent]
    timeout_s: 60
  - name: failing
    title: A task fails
    file: failing.yml
    role: operator
    targets: [agent]
    timeout_s: 60
"""
BROKEN = """---
- name: Broken
  hosts: agent
  gather_facts: false
  tasks:
    - name: Call a module nobody wrote
      flypack.nowhere.nothing: {}
"""
FAILING = """---
- name: Failing
  hosts: agent
  gather_facts: false
  tasks:
    - name: Check the backup disk
      ansible.builtin.fail:
        msg: the backup disk is full
"""


def test_a_run_that_stops_early_or_fails_a_task_says_why() -> None:
    with reachable_tmp() as root:
        folder = root / "catalog"
        folder.mkdir()
        (folder / "catalog.yml").write_text(CATALOG)
        (folder / "broken.yml").write_text(BROKEN)
        (folder / "failing.yml").write_text(FAILING)
        svc = agent_services(root, jobs={"playbooks_dir": str(folder)})
        with agent_client(svc) as (c, h):
            jid = c.post("/api/v1/jobs", json={"playbook": "broken"}, headers=h).json()["id"]
            job = wait_job(c, h, jid, timeout=120)
            assert job["status"] == "failed", job
            assert job["reason"].startswith(f"ansible-playbook exited with {job['rc']}: ")
            assert "flypack.nowhere.nothing" in job["reason"], job["reason"]
            assert not any(e["event"] == "runner_on_start" for e in events(c, h, jid))

            jid = c.post("/api/v1/jobs", json={"playbook": "failing"}, headers=h).json()["id"]
            job = wait_job(c, h, jid, timeout=120)
            assert job["status"] == "failed", job
            assert job["reason"] == ("ansible-playbook exited with 2: task 'Check the backup "
                                     "disk' failed on self: the backup disk is full"), job
