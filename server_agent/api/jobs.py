"""Playbooks and jobs: list the catalog, start, follow and cancel jobs. Logic: JobService."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, Query, Response

from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import (
    Job,
    JobEventPage,
    JobList,
    JobRequest,
    JobStatus,
    PlaybookList,
)
from server_agent.jobs.errors import (
    IdempotencyConflict,
    JobError,
    JobNotFound,
    JobStateError,
    RoleTooLow,
    UnknownPlaybook,
)

if TYPE_CHECKING:
    from server_agent.jobs.service import JobService
    from server_agent.runtime import Services

router = APIRouter(tags=["jobs"])


def _jobs(svc: Services) -> JobService:
    if svc.jobs is None:
        raise ApiError(503, "unavailable", "jobs are off on this agent (no playbook catalog)",
                       "set [jobs] playbooks_dir in the agent's configuration")
    return svc.jobs


def _error(exc: JobError) -> ApiError:
    status, code = 422, "invalid_input"
    if isinstance(exc, JobNotFound | UnknownPlaybook):
        status, code = 404, "not_found"
    elif isinstance(exc, RoleTooLow):
        status, code = 403, "forbidden"
    elif isinstance(exc, IdempotencyConflict | JobStateError):
        status, code = 409, "conflict"
    return ApiError(status, code, str(exc), exc.hint)


@router.get("/playbooks", response_model=PlaybookList)
def list_playbooks(svc: ServicesDep, who: Viewer) -> PlaybookList:
    return PlaybookList(playbooks=_jobs(svc).playbooks(who))


@router.post("/jobs", response_model=Job, status_code=201)
def start_job(
    req: JobRequest, svc: ServicesDep, who: Operator, response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Job:
    try:
        job, created = _jobs(svc).submit(who, req, idempotency_key)
    except JobError as exc:
        raise _error(exc) from None
    if not created:
        response.status_code = 200
    return job


@router.get("/jobs", response_model=JobList)
def list_jobs(
    svc: ServicesDep, _: Viewer, status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobList:
    return JobList(jobs=_jobs(svc).query(status, limit))


@router.get("/jobs/{job_id}", response_model=Job)
def get_job(job_id: int, svc: ServicesDep, _: Viewer) -> Job:
    try:
        return _jobs(svc).get(job_id)
    except JobError as exc:
        raise _error(exc) from None


@router.get("/jobs/{job_id}/events", response_model=JobEventPage)
def job_events(
    job_id: int, svc: ServicesDep, _: Viewer,
    after: Annotated[int, Query(ge=0, description="Last seq already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> JobEventPage:
    try:
        events = _jobs(svc).events(job_id, after, limit)
    except JobError as exc:
        raise _error(exc) from None
    nxt = events[-1].seq if len(events) == limit else None
    return JobEventPage(job=job_id, events=events, next_after=nxt)


@router.post("/jobs/{job_id}/cancel", response_model=Job)
def cancel_job(job_id: int, svc: ServicesDep, who: Operator) -> Job:
    try:
        return _jobs(svc).cancel(who, job_id)
    except JobError as exc:
        raise _error(exc) from None
