"""Discovery runs: start (operator), progress and result, cancel."""

from __future__ import annotations

from fastapi import APIRouter

from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import DiscoveryRun, DiscoveryRunRequest
from server_agent.discovery.errors import RunError, TargetError
from server_agent.discovery.service import DiscoveryService
from server_agent.runtime import Services

router = APIRouter(tags=["discovery"])


def _service(svc: Services) -> DiscoveryService:
    if svc.discovery is None:
        raise ApiError(503, "unavailable", "discovery is not running in this agent",
                       "see the agent log")
    return svc.discovery


@router.post("/discovery/runs", response_model=DiscoveryRun, status_code=202)
async def start_run(body: DiscoveryRunRequest, svc: ServicesDep,
                    who: Operator) -> DiscoveryRun:
    try:
        return _service(svc).start(body, who.username)
    except TargetError as exc:
        raise ApiError(422, "invalid_input", str(exc), "fix the networks and send again"
                       ) from None
    except RunError as exc:
        raise ApiError(409, "conflict", str(exc), "one discovery run at a time") from None


@router.get("/discovery/runs/{run_id}", response_model=DiscoveryRun)
def get_run(run_id: str, svc: ServicesDep, _: Viewer) -> DiscoveryRun:
    try:
        return _service(svc).get(run_id)
    except RunError as exc:
        raise ApiError(404, "not_found", str(exc), "start one with POST /api/v1/discovery/runs"
                       ) from None


@router.post("/discovery/runs/{run_id}/cancel", response_model=DiscoveryRun)
def cancel_run(run_id: str, svc: ServicesDep, _: Operator) -> DiscoveryRun:
    try:
        return _service(svc).cancel(run_id)
    except RunError as exc:
        raise ApiError(404, "not_found", str(exc), "list runs via their ids") from None
