"""The agent's jobs API (issue 6, design §8), read leniently: it is being built concurrently.

    jobs = JobsApi(client)
    catalog = await jobs.playbooks()        # GET  /api/v1/playbooks  (vars as JSON schema)
    job = await jobs.start("connectivity-check", {"group": "encoders"}, limit=["enc-01"])
    events = await jobs.events(job.id)      # GET  /api/v1/jobs/{id}/events
    await jobs.cancel(job.id)               # POST /api/v1/jobs/{id}/cancel

``available`` is None until the first call, then True, or False after a 404 on the route
(the UI then says "this agent has no jobs API yet"). Field names the contract does not fix yet
are accepted under their likely spellings (``vars_schema``/``vars``/``schema``; a bare list or
``{"playbooks": [...]}``) so that a small naming difference does not break the tab. Checked
against the agent's contract models (PlaybookInfo, Job, JobEventPage) as of issue 6.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.client._agent import AgentClient
from desktop.client._exceptions import FeatureUnavailable, ProtocolError

__all__ = ["TERMINAL", "Job", "JobEvent", "JobsApi", "Playbook"]

TERMINAL = frozenset({"successful", "failed", "canceled", "timeout", "interrupted", "error"})


def _items(raw: Any, key: str) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = raw.get(key, raw.get("items", []))
    if not isinstance(raw, list):
        raise ProtocolError(f"expected a list of {key}", "update the desktop or the agent")
    return [x for x in raw if isinstance(x, dict)]


@dataclass
class Playbook:
    name: str
    title: str = ""
    description: str = ""
    role: str = "operator"
    schema: dict[str, Any] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    changes_devices: bool = False

    @classmethod
    def parse(cls, d: Mapping[str, Any]) -> Playbook:
        schema: Any = next((d[k] for k in ("vars_schema", "vars", "schema") if isinstance(
            d.get(k), dict)), {})
        targets = d.get("targets") or d.get("target_groups") or []
        return cls(name=str(d.get("name", "?")), title=str(d.get("title") or d.get("name")),
                   description=str(d.get("description", "")),
                   role=str(d.get("role") or d.get("min_role") or "operator"),
                   schema=dict(schema), targets=[str(t) for t in targets],
                   changes_devices=bool(d.get("changes_devices") or d.get("changes")))


@dataclass
class Job:
    id: str
    playbook: str
    status: str
    user: str = ""
    created_at: float | None = None
    finished_at: float | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def parse(cls, d: Mapping[str, Any]) -> Job:
        def num(*keys: str) -> float | None:
            for k in keys:
                v = d.get(k)
                if isinstance(v, int | float):
                    return float(v)
            return None

        return cls(id=str(d.get("id") or d.get("job_id")), playbook=str(d.get("playbook", "?")),
                   status=str(d.get("status", "unknown")),
                   user=str(d.get("user") or d.get("created_by") or ""),
                   created_at=num("created", "created_at", "started"),
                   finished_at=num("finished", "finished_at"),
                   reason=str(d.get("reason") or ""),
                   stats=dict(d.get("stats") or {}))


@dataclass
class JobEvent:
    seq: int
    event: str
    host: str = ""
    task: str = ""
    text: str = ""
    t: float | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any]) -> JobEvent:
        raw = d.get("event_data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        seq = d.get("seq", d.get("counter", 0))
        return cls(seq=int(seq) if isinstance(seq, int | float) else 0,
                   event=str(d.get("event") or d.get("kind") or ""),
                   host=str(d.get("host") or data.get("host") or ""),
                   task=str(d.get("task") or data.get("task") or ""),
                   text=str(d.get("stdout") or d.get("text") or d.get("message") or ""),
                   t=d.get("t") if isinstance(d.get("t"), int | float) else None)

    def line(self) -> str:
        who = f"[{self.host}] " if self.host else ""
        what = self.text.strip() or f"{self.event} {self.task}".strip()
        return f"{who}{what}"


class JobsApi:
    def __init__(self, client: AgentClient) -> None:
        self.client = client
        self.available: bool | None = None

    async def _get(self, path: str, **kw: Any) -> Any:
        try:
            resp = await self.client._authed("GET", path, feature="a jobs API", **kw)
        except FeatureUnavailable:
            self.available = False
            raise
        self.available = True
        return resp.json()

    async def playbooks(self) -> list[Playbook]:
        return [Playbook.parse(d) for d in _items(await self._get("/playbooks"), "playbooks")]

    async def jobs(self) -> list[Job]:
        return [Job.parse(d) for d in _items(await self._get("/jobs"), "jobs")]

    async def job(self, job_id: str) -> Job:
        return Job.parse(await self._get(f"/jobs/{job_id}"))

    async def events(self, job_id: str, after: int = 0) -> list[JobEvent]:
        raw = await self._get(f"/jobs/{job_id}/events", params={"after": after})
        return [JobEvent.parse(d) for d in _items(raw, "events")]

    async def start(self, playbook: str, variables: Mapping[str, Any],
                    limit: Sequence[str] = (), idempotency_key: str | None = None) -> Job:
        key = idempotency_key or uuid.uuid4().hex
        body = {"playbook": playbook, "limit": list(limit), "vars": dict(variables)}
        resp = await self.client._authed("POST", "/jobs", json=body, feature="a jobs API",
                                         headers={"Idempotency-Key": key})
        return Job.parse(resp.json())

    async def cancel(self, job_id: str) -> None:
        await self.client._authed("POST", f"/jobs/{job_id}/cancel", feature="cancelling jobs")
