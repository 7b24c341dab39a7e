"""JobRunner: one job's private data dir, its Execution, and its events.

Who runs ansible, with which interpreter, and where the job dirs go is decided once, when the
queue starts (:meth:`JobRunner.ensure_plan`, :mod:`server_agent.jobs.reach`), and logged.

Job dir (``<work dir>/<id>``, owned by the playbook user except ``bin/``)::

    project/     a copy of the catalog folder (playbooks, library/, files/)
    inventory/   hosts.yml (the agent's devices by role) and extra.yml ([jobs] inventory)
    env/         extravars: the job's vars, every string tagged !unsafe, plus flypack_* vars
    bin/         the launcher and ansible.pid (root-owned: the playbook user cannot change them)
    home/ tmp/   HOME and temp dirs of ansible;  output/  files a playbook produces
    secret/      the SSH key from the credential store, removed when the job ends
    artifacts/   ansible-runner's record (stdout, job_events, status, rc), kept and rotated
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from server_agent.contract import Job, JobEvent, JobStatus
from server_agent.jobs.catalog import Catalog
from server_agent.jobs.errors import JobError, SandboxError
from server_agent.jobs.executor import Execution, RunSpec, kill_job_processes
from server_agent.jobs.inventory import Inventory, build_inventory
from server_agent.jobs.limits import plan_limits
from server_agent.jobs.reach import RunPlan, plan_run
from server_agent.jobs.runas import (
    RunUser,
    check_reachable,
    chown_tree,
    resolve_run_user,
    write_launcher,
)
from server_agent.jobs.safety import dump_unsafe
from server_agent.jobs.store import JobStore

if TYPE_CHECKING:
    from server_agent.auth.credentials import CredentialStore
    from server_agent.config import AgentConfig
    from server_agent.discovery.registry import DeviceRegistry
    from server_agent.live.bus import LiveBus

log = logging.getLogger("flypack.jobs")
VAR = "flypack_"  # prefix of the agent's own playbook variables (clients may not set)
MAX_STDOUT = 4000
MAX_DATA = 16000
REDACTED = "********"


def default_playbooks_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "playbooks"


class JobRunner:
    def __init__(self, config: AgentConfig, catalog: Catalog, store: JobStore, bus: LiveBus,
                 credentials: CredentialStore, devices: DeviceRegistry) -> None:
        self.config = config
        self.jobs = config.jobs
        self.catalog = catalog
        self.store = store
        self.bus = bus
        self.credentials = credentials
        self.devices = devices
        self.default_work_dir = config.agent.state_dir / "jobs"
        self.plan: RunPlan | None = None
        self.plan_error: JobError | None = None
        self._plan_lock = threading.Lock()
        self._closed = False
        self._runs: dict[int, Execution] = {}
        self._cancel_by: dict[int, str] = {}
        self.limits = plan_limits(self.jobs.memory_limit_mb, self.jobs.cpu_quota_percent,
                                  self.jobs.cgroup_limits)
        log.info("job resource limits: %s (%s)", self.limits.kind, self.limits.reason)

    @property
    def work_dir(self) -> Path:
        if self.plan is not None:
            return self.plan.work_dir
        return self.jobs.work_dir or self.default_work_dir

    @property
    def backup_dir(self) -> Path:
        return self.work_dir / "backups"

    def job_dir(self, job_id: int) -> Path:
        return self.work_dir / str(job_id)

    def inventory(self) -> Inventory:
        port = self.config.sim.http_port if self.config.sim.enabled else self.jobs.http_port
        return build_inventory(self.devices.targets(), self.jobs.inventory, port)

    def ensure_plan(self) -> RunPlan:
        """Who runs ansible, with what, where: decided once (blocking: run it on a thread) and
        logged, with every fallback taken. A plan that cannot be made (the playbook user
        cannot be created, a configured work_dir it cannot reach) is kept as the error every
        job then fails with."""
        with self._plan_lock:
            return self._ensure_plan()

    def _ensure_plan(self) -> RunPlan:
        if self.plan is not None:
            return self.plan
        if self.plan_error is not None:
            raise self.plan_error
        if self._closed:
            raise SandboxError("the agent is stopping")
        try:
            user: RunUser | None = resolve_run_user(self.jobs.run_as)
            self.plan = plan_run(user, self.default_work_dir, self.jobs.work_dir)
        except JobError as exc:
            self.plan_error = exc
            log.error("jobs cannot run: %s (%s)", exc, exc.hint)
            raise
        except Exception as exc:  # an unexpected failure must not be a silent one
            log.exception("jobs cannot run: planning the playbook runtime failed")
            self.plan_error = SandboxError(f"planning the playbook runtime failed: {exc}")
            raise self.plan_error from exc
        log.info("jobs: %s", self.plan.summary())
        for note in self.plan.notes:
            log.warning("jobs: %s", note)
        return self.plan

    def close(self) -> None:
        """At agent stop: a temporary work dir (a fallback, see reach) goes with the agent.
        Blocking (waits for a plan being made, so that none is made after): use a thread."""
        with self._plan_lock:
            self._closed = True
            if self.plan is not None and self.plan.temporary_work_dir:
                shutil.rmtree(self.plan.work_dir, ignore_errors=True)

    def cancel(self, job_id: int, by: str) -> None:
        run = self._runs.get(job_id)
        if run is not None:
            self._cancel_by[job_id] = by
            run.cancel()

    def cancel_all(self) -> None:
        for run in self._runs.values():
            run.cancel()

    # --- preparing the private data dir ---------------------------------------------------

    def _secrets(self) -> dict[str, str]:
        out = {}
        for key, ref in (("ssh_key", self.jobs.ssh_key_ref),
                         ("metrics_token", self.jobs.metrics_token_ref)):
            if ref and (value := self.credentials.get(ref)):
                out[key] = value
        return out

    def _agent_url(self) -> str:
        a = self.config.agent
        scheme = "https" if a.tls else "http"
        return f"{scheme}://127.0.0.1:{a.port}"

    def prepare(self, job: Job, secrets: dict[str, str]) -> RunSpec:
        pb = self.catalog.get(job.playbook)
        if pb is None:
            raise RuntimeError(f"playbook {job.playbook!r} left the catalog")
        plan = self.ensure_plan()
        user, rt = plan.user, plan.runtime
        root = self.job_dir(job.id)
        if root.exists():
            shutil.rmtree(root)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work_dir, 0o711)  # the agent's own dir: enterable, not listable
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        root.mkdir(mode=0o700)
        shutil.copytree(self.catalog.folder, root / "project",
                        ignore=shutil.ignore_patterns("catalog.yml", ".ansible-lint", "*.retry",
                                                     "__pycache__"))
        for d in ("inventory", "env", "home", "tmp", "output", "secret"):
            (root / d).mkdir()
        # ansible's event callback writes partial events here, as the playbook user
        (root / "artifacts" / "run" / "job_events").mkdir(parents=True)
        inv = self.inventory()
        all_vars = inv.data["all"]["vars"]
        all_vars["ansible_python_interpreter"] = rt.python
        known = self.work_dir / "known_hosts"
        known.touch()
        strict = "yes" if self.jobs.ssh_strict_host_keys else "accept-new"
        all_vars["ansible_ssh_common_args"] = (
            f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking={strict}")
        if self.jobs.ssh_user:
            all_vars["ansible_user"] = self.jobs.ssh_user
        if "ssh_key" in secrets:
            key = root / "secret" / "ssh_key"
            key.write_text(secrets["ssh_key"].rstrip("\n") + "\n")
            key.chmod(0o600)
            all_vars["ansible_ssh_private_key_file"] = str(key)
        for host in (h for g in inv.data["all"]["children"].values() for h in g["hosts"].values()):
            host["ansible_connection"] = "local"  # devices with an API: tasks run on the agent
        (root / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inv.data))
        inventories = [root / "inventory" / "hosts.yml"]
        if inv.extra is not None:
            shutil.copyfile(inv.extra, root / "inventory" / "extra.yml")
            inventories.append(root / "inventory" / "extra.yml")
        agent_vars: dict[str, Any] = {
            f"{VAR}job_id": job.id, f"{VAR}output_dir": str(root / "output"),
            f"{VAR}backup_dir": str(self.backup_dir), f"{VAR}agent_url": self._agent_url(),
            f"{VAR}flypack": self.config.agent.flypack,
            f"{VAR}log_file": str(self.jobs.log_file or ""),
            f"{VAR}metrics_token": secrets.get("metrics_token", ""),
        }
        (root / "env" / "extravars").write_text(dump_unsafe({**job.vars, **agent_vars}))
        chown_tree(root, user)
        if user is not None:
            os.chown(self.backup_dir, user.uid, user.gid)
            os.chown(known, user.uid, user.gid)
        bin_dir = root / "bin"
        launcher = write_launcher(bin_dir, user, self.jobs.memory_limit_mb,
                                  self.jobs.cpu_limit_s, bin_dir / "ansible.pid",
                                  self.limits.prefix, rt.python, rt.playbook_bin)
        check_reachable(root, user)
        first = rt.bin_dir or str(Path(sys.executable).parent)
        env = {
            "PATH": first + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root / "home"), "ANSIBLE_LOCAL_TEMP": str(root / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(root / "tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_GATHERING": "explicit",
            "ANSIBLE_DEPRECATION_WARNINGS": "False", "FLYPACK_JOB_DIR": str(root),
            "TMPDIR": str(root / "tmp"),
        }
        env.update(rt.env())  # PYTHONPATH, AWX_LIB_DIRECTORY when not the venv's own
        hosts = inv.resolve_limit(job.limit, pb.info.targets)  # never beyond the targets
        return RunSpec(job.id, root, root / "project" / pb.path.name, inventories, hosts,
                       int(pb.info.timeout_s), launcher, self.jobs.forks, env)

    # --- running --------------------------------------------------------------------------

    async def run(self, job: Job) -> None:
        secrets = self._secrets()
        spec = await asyncio.to_thread(self.prepare, job, secrets)
        redact = [v for v in secrets.values() if len(v) >= 4]
        got_pid = False

        def on_event(ev: dict[str, Any]) -> None:
            nonlocal got_pid
            if not got_pid:
                pid = _read_pid(spec.data_dir / "bin" / "ansible.pid")
                if pid:
                    self.store.set_pid(job.id, pid)
                    got_pid = True
            jev = convert_event(ev, redact)
            if jev is None:
                return
            self.store.add_event(job.id, jev)
            self.bus.publish_event("job.event", {"job": job.id, **jev.model_dump()})

        run = Execution(spec, asyncio.get_running_loop(), on_event)
        self._runs[job.id] = run
        try:
            outcome = await run.run()
        finally:
            self._runs.pop(job.id, None)
            # ansible's workers call setsid: the runner's group kill misses them and their tasks
            left = await asyncio.to_thread(kill_job_processes, str(spec.data_dir))
            if left:
                log.info("job %d: killed %d leftover processes", job.id, left)
            shutil.rmtree(spec.data_dir / "secret", ignore_errors=True)
        await asyncio.sleep(0)  # let the last call_soon_threadsafe events land first
        status = JobStatus(outcome.status) if outcome.status in JobStatus.__members__ \
            else JobStatus.failed
        reason = outcome.reason
        by = self._cancel_by.pop(job.id, "")
        if status is JobStatus.canceled and by:
            reason = f"canceled by {by}"
        note = self.plan.job_note if self.plan is not None else ""
        if note:  # the sandbox was weaker than designed: say so on every job
            reason = f"{reason}; {note}" if reason else note
        self.store.finish(job.id, status, reason, outcome.rc, outcome.stats)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _scrub(text: str, redact: list[str]) -> str:
    for secret in redact:
        text = text.replace(secret, REDACTED)
    return text


def convert_event(ev: dict[str, Any], redact: list[str]) -> JobEvent | None:
    counter = ev.get("counter")
    if not isinstance(counter, int):
        return None
    data = ev.get("event_data") or {}
    try:
        t = dt.datetime.fromisoformat(str(ev.get("created"))).replace(
            tzinfo=dt.UTC).timestamp()
    except ValueError:
        t = 0.0
    res = data.get("res") if isinstance(data.get("res"), dict) else None
    keep: dict[str, Any] = {k: data[k] for k in ("task_action", "duration", "start", "end")
                            if k in data}
    if res is not None:
        keep["res"] = res
    blob = _scrub(json.dumps(keep, default=str), redact)
    if len(blob) > MAX_DATA:
        blob = json.dumps({"truncated": True, "task_action": data.get("task_action")})
    event = str(ev.get("event", ""))
    return JobEvent(
        seq=counter, t=t, event=event, host=data.get("host") or None,
        task=data.get("task") or None, play=data.get("play") or None,
        changed=bool(res.get("changed")) if res else False,
        failed=event in ("runner_on_failed", "runner_on_unreachable")
        and not data.get("ignore_errors"),
        stdout=_scrub(str(ev.get("stdout", "")), redact)[:MAX_STDOUT],
        data=json.loads(blob))
