"""Playbooks through the agent vs ansible-playbook run directly, in one run.

The agent (a real `flypack-agent serve` with the simulated segment) runs the catalog's
connectivity check on the routers; the direct run is `ansible-playbook` on the very inputs of
that job (its inventory, extra-vars file and project copy), as root, as a person would run it.
Figures: median wall time POST -> final status vs the direct run (target <= 1.2x), and
POST -> first task-start event on a WebSocket client vs the direct run's first "TASK [" line
(target: the agent adds <= 1 s). Cancel: a job sleeping in its task (tests.jobs_support's
sleeper catalog), POST .../cancel -> final status "canceled" with every process of the job
gone (target <= 10 s), against Ctrl-C (SIGINT) to the same ansible-playbook run directly.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.bench.report import Row, size
from tests.jobs_support import reachable_tmp, sleep_catalog
from tests.support import agent_process, free_port

RUNS = size(3, 1)
BODY = {"playbook": "connectivity-check", "limit": ["routers"]}


def _through_agent(url: str, token: str) -> tuple[float, float, int]:
    """(POST -> final status, POST -> first task start on the WebSocket, job id)."""
    h = {"Authorization": f"Bearer {token}"}
    ws_url = url.replace("http://", "ws://") + "/api/v1/live"
    with connect(ws_url, additional_headers=h, open_timeout=10) as ws:
        t0 = time.monotonic()
        r = httpx.post(f"{url}/api/v1/jobs", json=BODY, headers=h, timeout=10)
        r.raise_for_status()
        job = r.json()["id"]
        first = done = None
        deadline = t0 + 120
        while done is None and time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("type") != "event" or msg["data"].get("job") != job:
                continue
            if first is None and msg["data"].get("event") == "playbook_on_task_start":
                first = time.monotonic() - t0
            if msg["kind"] == "job.status" and msg["data"]["status"] not in ("running",):
                done = time.monotonic() - t0
        if first is None or done is None:
            raise RuntimeError(f"job {job} did not finish within 120 s")
        return done, first, job


def _direct_cmd(job_dir: Path, playbook: str, *extra: str) -> tuple[list[str], dict[str, str]]:
    """ansible-playbook on a job's own inputs (inventory, extra-vars, project copy), as a
    person would run it, and its environment."""
    venv = Path(sys.executable).parent
    cmd = [str(venv / "ansible-playbook"), "-i", str(job_dir / "inventory" / "hosts.yml"),
           "-e", f"@{job_dir / 'env' / 'extravars'}", *extra,
           str(job_dir / "project" / playbook)]
    env = {**os.environ, "PATH": f"{venv}{os.pathsep}{os.environ.get('PATH', '')}",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "False"}
    return cmd, env


def _direct(job_dir: Path) -> tuple[float, float]:
    """(wall time, time to the first 'TASK [' line) of ansible-playbook on the job's inputs."""
    cmd, env = _direct_cmd(job_dir, "connectivity_check.yml", "--limit", "routers")
    t0 = time.monotonic()
    first = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if first is None and line.startswith("TASK ["):
                first = time.monotonic() - t0
        rc = proc.wait(120)
    if rc != 0 or first is None:
        raise RuntimeError(f"direct ansible-playbook failed (rc {rc})")
    return time.monotonic() - t0, first


def _cancel_through_agent(url: str, token: str) -> tuple[float, int]:
    """(POST cancel -> final status, job id) of a job cancelled while its task sleeps."""
    h = {"Authorization": f"Bearer {token}"}
    r = httpx.post(f"{url}/api/v1/jobs", json={"playbook": "sleeper"}, headers=h, timeout=10)
    r.raise_for_status()
    job = r.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # bounded: until the sleep task has started
        evs = httpx.get(f"{url}/api/v1/jobs/{job}/events", headers=h, timeout=10,
                        params={"limit": 1000}).json()["events"]
        if any(e.get("event") == "runner_on_start" and "Sleep" in str(e.get("task", ""))
               for e in evs):
            break
        time.sleep(0.1)
    t0 = time.monotonic()
    httpx.post(f"{url}/api/v1/jobs/{job}/cancel", headers=h, timeout=10).raise_for_status()
    while time.monotonic() < deadline:
        st = httpx.get(f"{url}/api/v1/jobs/{job}", headers=h, timeout=10).json()["status"]
        if st not in ("queued", "running"):
            if st != "canceled":
                raise RuntimeError(f"job {job} ended {st}, not canceled")
            return time.monotonic() - t0, job
        time.sleep(0.05)
    raise RuntimeError(f"job {job} was not canceled within 120 s")


def _cancel_direct(job_dir: Path) -> float:
    """Ctrl-C to ansible-playbook on the job's inputs once its sleep task runs: to exit."""
    cmd, env = _direct_cmd(job_dir, "sleeper.yml")
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("TASK [Sleep"):
                break
        time.sleep(0.5)  # the task's worker has started
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        return time.monotonic() - t0


def cancel_rows() -> list[Row]:
    with reachable_tmp() as root:
        folder = sleep_catalog(root / "catalog", timeout=300)
        extra = (f'[jobs]\nwork_dir = "{root / "jobs"}"\nplaybooks_dir = "{folder}"\n')
        with agent_process(root, extra) as agent:
            token = agent.token("operator")
            took, direct = [], []
            for _ in range(RUNS):
                t, job = _cancel_through_agent(agent.url, token)
                took.append(t)
                direct.append(_cancel_direct(root / "jobs" / str(job)))
    c, dc = statistics.median(took), statistics.median(direct)
    return [Row("jobs", f"cancel mid-task -> canceled, median of {RUNS}", c, "s", "<= 10 s",
                c <= 10.0, f"Ctrl-C to ansible-playbook direct: {dc:.2f} s")]


def run() -> list[Row]:
    with reachable_tmp() as root:
        base = f"127.{random.randint(100, 250)}.0.0"
        extra = (f'[sim]\nenabled = true\nbase_address = "{base}"\nsnmp = false\nstreams = 0\n'
                 f"tcp_port = {free_port()}\nhttp_port = {free_port()}\n"
                 f"echo_port = {free_port()}\n"
                 f'[jobs]\nwork_dir = "{root / "jobs"}"\n')
        with agent_process(root, extra) as agent:
            token = agent.token("operator")
            _through_agent(agent.url, token)  # warm-up (user creation, caches)
            walls: list[float] = []
            firsts: list[float] = []
            d_walls: list[float] = []
            d_firsts: list[float] = []
            job_dir: Any = None
            for _ in range(RUNS):
                wall, first, job = _through_agent(agent.url, token)
                walls.append(wall)
                firsts.append(first)
                job_dir = root / "jobs" / str(job)
                dw, df = _direct(job_dir)
                d_walls.append(dw)
                d_firsts.append(df)
    w, dw = statistics.median(walls), statistics.median(d_walls)
    f, df = statistics.median(firsts), statistics.median(d_firsts)
    return [
        Row("jobs", "connectivity check (4 routers): POST -> final status, median of "
            f"{RUNS}", w, "s", "<= 1.2x direct", w <= 1.2 * dw,
            f"ansible-playbook direct: {dw:.2f} s (ratio {w / dw:.2f}x)"),
        Row("jobs", "POST -> first task start on a WebSocket client", f * 1000, "ms",
            "direct + <= 1000 ms", f - df <= 1.0,
            f"direct run's first task: {df * 1000:.0f} ms (agent adds {(f - df) * 1000:.0f} ms)"),
        *cancel_rows(),
    ]
