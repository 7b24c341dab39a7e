"""Playbooks through the agent, for real: ansible-core + ansible-runner against the simulated
segment and a real sshd on 127.0.0.1. Each test asserts the effect on the device or file, not
only the job's status."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from server_agent.jobs.executor import job_processes
from tests.jobs_support import (
    agent_api,
    agent_client,
    agent_services,
    events,
    reachable_tmp,
    sleep_catalog,
    sshd,
    wait_job,
)
from tests.sim_support import sim_section
from tests.support import (
    AGENT_BIN,
    AgentProc,
    agent_process,
    free_port,
    require_root,
    stop_process,
    wait_http,
)

pytestmark = pytest.mark.slow


def _sim() -> dict[str, object]:
    sec = sim_section(tcp_port=free_port(), http_port=free_port(), echo_port=_free_udp())
    return sec.model_dump(mode="json", exclude_none=True)


def test_encoder_restart_really_restarts_and_events_reach_the_websocket() -> None:
    with reachable_tmp() as root:
        svc = agent_services(root, sim=_sim())
        assert svc.sim is not None
        enc = svc.sim.by_name["enc-01"]
        url = f"http://{enc.address}:{svc.sim.ports.http}/api/v1/status"
        with agent_client(svc) as (c, h), c.websocket_connect("/api/v1/live",
                                                            headers=h) as ws:
            r = c.post("/api/v1/jobs", json={"playbook": "encoder-restart",
                                             "limit": ["enc-01"]}, headers=h)
            assert r.status_code == 201, r.text
            job = wait_job(c, h, r.json()["id"])
            assert job["status"] == "successful", job
            assert job["stats"]["enc-01"]["changed"] == 1
            status = httpx.get(url, timeout=5).json()
            assert status["output"]["restarts"] == 1
            kinds = []
            for _ in range(200):  # bounded: the job's events arrived before it ended
                msg = ws.receive_json()
                if msg["type"] == "event":
                    kinds.append((msg["kind"], msg["data"].get("event")))
                    if msg["kind"] == "job.status" and msg["data"]["status"] == "successful":
                        break
            assert ("job.event", "playbook_on_task_start") in kinds
            assert ("job.event", "runner_on_ok") in kinds
            again = wait_job(c, h, c.post("/api/v1/jobs", json={
                "playbook": "encoder-restart", "limit": ["enc-01"]}, headers=h).json()["id"])
            assert again["status"] == "successful"
            assert httpx.get(url, timeout=5).json()["output"]["restarts"] == 2
            evs = events(c, h, job["id"])
            assert [e["seq"] for e in evs] == sorted({e["seq"] for e in evs})
            assert any(e["task"] == "Restart the output" and e["changed"] for e in evs)


def test_backup_and_connectivity_against_the_simulated_devices() -> None:
    with reachable_tmp() as root:
        svc = agent_services(root, sim=_sim())
        with agent_client(svc) as (c, h):
            body = {"playbook": "config-backup", "limit": ["enc-02", "dec-01"]}
            job = wait_job(c, h, c.post("/api/v1/jobs", json=body, headers=h).json()["id"])
            assert job["status"] == "successful", job
            for dev in ("enc-02", "dec-01"):
                folder = root / "jobs" / "backups" / dev
                data = (folder / "settings.json").read_bytes()
                assert b'"device": "' + dev.encode() in data
                digest = (folder / "settings.json.sha256").read_text().split()[0]
                assert digest == hashlib.sha256(data).hexdigest()
                assert len(list((folder / "history").iterdir())) == 1
            second = wait_job(c, h, c.post("/api/v1/jobs", json=body, headers=h).json()["id"])
            assert second["status"] == "successful"
            assert all(s.get("changed", 0) == 0 for s in second["stats"].values()), second
            assert len(list((root / "jobs/backups/enc-02/history").iterdir())) == 1

            conn = wait_job(c, h, c.post("/api/v1/jobs", json={
                "playbook": "connectivity-check", "limit": ["routers"],
                "vars": {"ports": [sim_port(svc)], "count": 2}}, headers=h).json()["id"])
            assert conn["status"] == "successful", conn
            assert sorted(conn["stats"]) == ["rtr-01", "rtr-02", "rtr-03", "rtr-04"]
            summary = [e for e in events(c, h, conn["id"])
                       if e["task"] == "Summarise the group" and e["event"] == "runner_on_ok"]
            assert summary and "4 of 4 reachable" in summary[0]["stdout"]


def sim_port(svc: object) -> int:
    return int(svc.sim.ports.tcp)  # type: ignore[attr-defined]


def test_config_backup_over_ssh_from_a_real_sshd() -> None:
    require_root("sshd with its own config, and the playbook user")
    with reachable_tmp() as root, sshd(root) as (port, key):
        inv = root / "servers.yml"
        inv.write_text(yaml.safe_dump({"servers": {"hosts": {"testhost": {
            "ansible_host": "127.0.0.1", "ansible_port": port, "ansible_user": "root"}}}}))
        svc = agent_services(root, jobs={"inventory": str(inv), "ssh_key_ref": "test-ssh",
                                         "ssh_strict_host_keys": False})
        svc.credentials.set("test-ssh", key)
        with agent_client(svc) as (c, h):
            body = {"playbook": "config-backup", "limit": ["testhost"],
                    "vars": {"paths": ["/etc/hostname"]}}
            job = wait_job(c, h, c.post("/api/v1/jobs", json=body, headers=h).json()["id"])
            assert job["status"] == "successful", events(c, h, job["id"])[-3:]
            got = (root / "jobs/backups/testhost/etc/hostname").read_bytes()
            assert got == Path("/etc/hostname").read_bytes()
            sums = (root / "jobs/backups/testhost/SHA256SUMS").read_text()
            assert f"{hashlib.sha256(got).hexdigest()}  /etc/hostname" in sums
            assert job["stats"]["testhost"]["changed"] >= 1
            again = wait_job(c, h, c.post("/api/v1/jobs", json=body, headers=h).json()["id"])
            assert again["status"] == "successful"
            assert again["stats"]["testhost"].get("changed", 0) == 0
            assert not (root / "jobs" / str(job["id"]) / "secret" / "ssh_key").exists()
            blob = str(events(c, h, job["id"]))
            assert "PRIVATE KEY" not in blob and key.splitlines()[1] not in blob


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}").exists() and "Z" not in Path(
            f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    except (ProcessLookupError, FileNotFoundError):
        return False


def _no_job_processes(job_dir: Path, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not job_processes(str(job_dir)):
            return True
        time.sleep(0.1)
    return False


def test_cancel_mid_task_and_time_limit_and_unprivileged_user() -> None:
    with reachable_tmp() as root:
        folder = sleep_catalog(root / "catalog", timeout=3)
        svc = agent_services(root, jobs={"playbooks_dir": str(folder)})
        with agent_client(svc) as (c, h):
            jid = c.post("/api/v1/jobs", json={"playbook": "sleeper"}, headers=h).json()["id"]
            timed = wait_job(c, h, jid, timeout=30)
            assert timed["status"] == "timeout", timed
            assert "time limit of 3 s" in timed["reason"]
            assert _no_job_processes(root / "jobs" / str(jid))

        folder = sleep_catalog(root / "catalog2", timeout=120)
        svc = agent_services(root, jobs={"playbooks_dir": str(folder)})
        with agent_client(svc) as (c, h):
            jid = c.post("/api/v1/jobs", json={"playbook": "sleeper"}, headers=h).json()["id"]
            wait_job(c, h, jid, until="runner_on_start", timeout=60)
            time.sleep(0.5)  # the sleep task is running now
            pid = int((root / "jobs" / str(jid) / "bin" / "ansible.pid").read_text())
            if os.geteuid() == 0:
                assert os.stat(f"/proc/{pid}").st_uid != 0  # ansible runs unprivileged
            r = c.post(f"/api/v1/jobs/{jid}/cancel", headers=h)
            assert r.status_code == 200
            job = wait_job(c, h, jid, timeout=15)
            assert job["status"] == "canceled" and "operator" in job["reason"], job
            assert _no_job_processes(root / "jobs" / str(jid))  # workers and `sleep` too
            assert not _pid_alive(pid)


def _wait_api(agent: AgentProc, job_id: int, timeout: float = 90,
              until: str | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = agent_api(agent, "GET", f"/jobs/{job_id}")
        if until and any(e["event"] == until
                         for e in agent_api(agent, "GET", f"/jobs/{job_id}/events")["events"]):
            return job
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} did not get there within {timeout} s")


def test_incident_snapshot_bundles_capture_metrics_and_log() -> None:
    with reachable_tmp() as root:
        log = root / "some.log"
        log.write_text("line one\nline two\n")
        os.chmod(log, 0o644)
        extra = (f'[metrics]\nloopback_only = true\n[jobs]\nwork_dir = "{root / "jobs"}"\n'
                 f'log_file = "{log}"\n')
        port = _free_udp()
        stop = threading.Event()

        def send() -> None:  # until the job ended; bounded: at most 6000 datagrams, 120 s
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                end = time.monotonic() + 120
                for _ in range(6000):
                    if stop.is_set() or time.monotonic() > end:
                        return
                    s.sendto(b"\x47" + bytes(187), ("127.0.0.1", port))
                    time.sleep(0.02)

        t = threading.Thread(target=send, daemon=True)
        with agent_process(root, extra) as agent:
            t.start()
            try:
                jid = agent_api(agent, "POST", "/jobs", json={
                    "playbook": "incident-snapshot", "vars": {
                        "capture_address": "127.0.0.1", "capture_port": port,
                        "capture_seconds": 2, "note": "test"}})["id"]
                job = _wait_api(agent, jid)
            finally:
                stop.set()
                t.join(10)
            assert job["status"] == "successful", job
        out = root / "jobs" / str(job["id"]) / "output"
        archives = list(out.glob("incident-*.tar.gz"))
        assert len(archives) == 1
        with tarfile.open(archives[0]) as tar:
            names = {n.removeprefix("./") for n in tar.getnames()}
            assert {"capture.ts", "metrics.prom", "agent.log", "summary.json"} <= names
            def read(name: str) -> bytes:
                f = tar.extractfile("./" + name)
                assert f is not None
                return f.read()
            assert len(read("capture.ts")) >= 188 * 10
            assert b"line two" in read("agent.log")
            assert b"flypack_" in read("metrics.prom")
            summary = json.loads(read("summary.json"))
            assert summary["health"]["flypack"] == "flypack-test" and summary["note"] == "test"


def test_kill_9_mid_job_then_restart_marks_it_interrupted_and_keeps_events() -> None:
    with reachable_tmp() as root:
        folder = sleep_catalog(root / "catalog", timeout=300)
        extra = f'[jobs]\nwork_dir = "{root / "jobs"}"\nplaybooks_dir = "{folder}"\n'
        with agent_process(root, extra) as agent:
            jid = agent_api(agent, "POST", "/jobs", json={"playbook": "sleeper"})["id"]
            _wait_api(agent, jid, until="runner_on_start", timeout=60)
            time.sleep(0.5)
            before = agent_api(agent, "GET", f"/jobs/{jid}/events")["events"]
            pid = int((root / "jobs" / str(jid) / "bin" / "ansible.pid").read_text())
            agent.proc.send_signal(signal.SIGKILL)
            agent.proc.wait(10)
            for _ in range(100):  # the ansible process dies with the agent (PDEATHSIG)
                if not _pid_alive(pid):
                    break
                time.sleep(0.1)
            assert not _pid_alive(pid)
            log = (root / "agent2.log").open("wb")
            proc = subprocess.Popen([AGENT_BIN, "serve", "--config", str(agent.config)],
                                    stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_http(f"{agent.url}/api/v1/health", proc=proc)
                job = agent_api(agent, "GET", f"/jobs/{jid}")
                assert job["status"] == "interrupted", job
                assert "agent stopped" in job["reason"]
                after = agent_api(agent, "GET", f"/jobs/{jid}/events")["events"]
                assert len(after) >= len(before) > 0
                assert after[: len(before)] == before
                assert _no_job_processes(root / "jobs" / str(jid))  # leftovers killed
            finally:
                stop_process(proc)
                log.close()


def _free_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
