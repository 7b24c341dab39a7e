"""JobService: validate, queue, run and follow playbook jobs (no HTTP here).

    submit() ─► catalog + role + limit + data-only vars ─► JobStore (queued) ─► wake the queue
    run()    ─► up to max_concurrent jobs ─► JobRunner (prepare dir, Execution) ─► final status
    events   ─► persisted (JobStore.add_event) ─► bus "job.event" ─► WebSocket clients

Audit entries: job.start, job.cancel, job.end (who, playbook, vars, outcome).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from server_agent.auth.service import Principal
from server_agent.contract import Job, JobEvent, JobRequest, JobStatus, PlaybookInfo
from server_agent.jobs import metric_defs as jm
from server_agent.jobs.catalog import Catalog
from server_agent.jobs.errors import (
    IdempotencyConflict,
    JobError,
    JobNotFound,
    JobStateError,
    RoleTooLow,
    UnknownPlaybook,
)
from server_agent.jobs.executor import kill_job_processes
from server_agent.jobs.runner import JobRunner
from server_agent.jobs.store import JobStore
from server_agent.live.bus import sample

if TYPE_CHECKING:
    from server_agent.auth.credentials import CredentialStore
    from server_agent.auth.service import AuthService
    from server_agent.config import AgentConfig
    from server_agent.discovery.registry import DeviceRegistry
    from server_agent.live.bus import LiveBus

log = logging.getLogger("flypack.jobs")


def _hash(playbook: str, limit: list[str], values: dict[str, object]) -> str:
    blob = json.dumps([playbook, sorted(limit), values], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class JobService:
    def __init__(self, config: AgentConfig, catalog: Catalog, store: JobStore, bus: LiveBus,
                 auth: AuthService, credentials: CredentialStore,
                 devices: DeviceRegistry) -> None:
        self.config = config
        self.catalog = catalog
        self.store = store
        self.bus = bus
        self.auth = auth
        self.runner = JobRunner(config, catalog, store, bus, credentials, devices)
        self._wake = asyncio.Event()
        self._active: dict[int, asyncio.Task[None]] = {}
        self.interrupt_left_running()

    # --- start-up -------------------------------------------------------------------------

    def interrupt_left_running(self) -> None:
        for job_id, _pid, data_dir in self.store.running():
            killed = bool(data_dir and kill_job_processes(data_dir))
            reason = "the agent stopped while this job ran (found at start-up)"
            if killed:
                reason += "; its leftover ansible processes were killed"
            self.store.finish(job_id, JobStatus.interrupted, reason)
            self.auth.audit(None, "job.end", f"job {job_id}: interrupted ({reason})")
            log.warning("job %d: interrupted: %s", job_id, reason)

    # --- queries --------------------------------------------------------------------------

    def playbooks(self, who: Principal) -> list[PlaybookInfo]:
        return self.catalog.infos()

    def get(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise JobNotFound(f"no job with id {job_id}")
        return job

    def query(self, status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        return self.store.query(status, limit)

    def events(self, job_id: int, after: int = 0, limit: int = 200) -> list[JobEvent]:
        self.get(job_id)
        return self.store.events(job_id, after, limit)

    # --- commands -------------------------------------------------------------------------

    def submit(self, who: Principal, req: JobRequest,
               idem_key: str | None = None) -> tuple[Job, bool]:
        """Queue a job; ``(job, False)`` when this idempotency key already made it."""
        key = idem_key or req.idempotency_key
        pb = self.catalog.get(req.playbook)
        if pb is None:
            raise UnknownPlaybook(f"no playbook {req.playbook!r} in the catalog")
        if not who.role.allows(pb.info.role):
            raise RoleTooLow(f"{pb.name} needs the {pb.info.role.value} role; you are "
                             f"{who.role.value}")
        values = pb.prepare_vars(req.vars)
        self.runner.inventory().resolve_limit(req.limit, pb.info.targets)
        digest = _hash(pb.name, req.limit, values)
        scoped = f"{who.username}:{key}" if key else None
        if scoped is not None and (found := self.store.by_key(scoped)) is not None:
            job, old = found
            if old != digest:
                raise IdempotencyConflict(f"the Idempotency-Key {key!r} was used for another "
                                          f"request (job {job.id})")
            return job, False
        job = self.store.add(pb.name, who.username, list(req.limit), values, scoped, digest)
        self.auth.audit(who.username, "job.start",
                        f"job {job.id}: {pb.name} limit={req.limit} vars={json.dumps(values)}")
        self.bus.publish_event("job.queued", {"job": job.id, "playbook": pb.name,
                                              "user": who.username})
        self._wake.set()
        return job, True

    def cancel(self, who: Principal, job_id: int) -> Job:
        job = self.get(job_id)
        if job.status.final:
            raise JobStateError(f"job {job_id} has already ended ({job.status.value})",
                                "nothing to cancel")
        self.auth.audit(who.username, "job.cancel", f"job {job_id}: {job.playbook}")
        if job.status is JobStatus.queued:
            self.store.finish(job_id, JobStatus.canceled, f"canceled by {who.username} "
                              "before it started")
            self._ended(job_id)
        else:
            self.runner.cancel(job_id, who.username)
        return self.get(job_id)

    # --- the queue ------------------------------------------------------------------------

    async def run(self) -> None:
        """Background task: start queued jobs, at most ``max_concurrent`` at a time. First
        the run plan (who runs ansible, with what, where; logged): a job waits for it."""
        try:
            await asyncio.to_thread(self.runner.ensure_plan)
        except JobError:
            pass  # logged; every job then fails with it as its reason
        try:
            while True:
                self._wake.clear()
                while len(self._active) < self.config.jobs.max_concurrent:
                    job = self.store.next_queued()
                    if job is None:
                        break
                    self.store.mark_running(job.id, str(self.runner.job_dir(job.id)))
                    task = asyncio.create_task(self._run_one(job), name=f"job-{job.id}")
                    self._active[job.id] = task
                self._publish_metrics()
                try:
                    await asyncio.wait_for(self._wake.wait(), 5.0)
                except TimeoutError:
                    pass
        finally:
            self.runner.cancel_all()
            for task in self._active.values():
                task.cancel()

    async def _run_one(self, job: Job) -> None:
        try:
            self.bus.publish_event("job.status", {"job": job.id, "status": "running"})
            await self.runner.run(job)
        except asyncio.CancelledError:  # the agent shuts down: ansible is being killed
            self.store.finish(job.id, JobStatus.interrupted,
                              "the agent was stopped while this job ran")
            raise
        except JobError as exc:
            log.error("job %d could not run: %s (%s)", job.id, exc, exc.hint)
            self.store.finish(job.id, JobStatus.failed, f"the agent could not run it: {exc}; "
                              f"{exc.hint}")
        except Exception as exc:
            log.exception("job %d failed to run", job.id)
            self.store.finish(job.id, JobStatus.failed, f"the agent could not run it: {exc}")
        finally:
            self._active.pop(job.id, None)
            self._ended(job.id)
            self._prune()
            self._wake.set()

    async def close(self) -> None:
        """At agent stop (after :meth:`run` was cancelled): let the jobs' tasks finish killing
        their processes, then remove what only this agent run used (a temporary work dir)."""
        tasks = list(self._active.values())
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        await asyncio.to_thread(self.runner.close)

    def _ended(self, job_id: int) -> None:
        job = self.store.get(job_id)
        if job is None or not job.status.final:
            return
        self.auth.audit(job.user, "job.end", f"job {job.id}: {job.playbook}: "
                        f"{job.status.value} {job.reason}".strip())
        self.bus.publish_event("job.status", {"job": job.id, "status": job.status.value,
                                              "reason": job.reason, "stats": job.stats})

    def _publish_metrics(self) -> None:
        counts = self.store.counts()
        fp = {"flypack": self.config.agent.flypack}
        out = [sample(jm.JOBS_QUEUED.name, fp, counts.get("queued", 0)),
               sample(jm.JOBS_RUNNING.name, fp, counts.get("running", 0))]
        out += [sample(jm.JOBS_FINISHED.name, {**fp, "status": st.value}, counts.get(st.value, 0))
                for st in JobStatus if st.final]
        self.bus.publish(out)

    def _prune(self) -> None:
        for job_id, data_dir in self.store.finished_dirs(self.config.jobs.keep_jobs):
            shutil.rmtree(Path(data_dir), ignore_errors=True)
            self.store.forget_dir(job_id)
