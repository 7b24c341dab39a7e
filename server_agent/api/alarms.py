"""Alarms: list them (viewer), acknowledge one (operator). The logic is in the AlarmEngine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query

from server_agent.alarms.errors import AlarmNotFound
from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import Alarm, AlarmList, Severity

if TYPE_CHECKING:
    from server_agent.alarms.engine import AlarmEngine
    from server_agent.runtime import Services

router = APIRouter(tags=["alarms"])


def _engine(svc: Services) -> AlarmEngine:
    if svc.alarms is None:
        raise ApiError(503, "unavailable", "the alarm engine is not running",
                       "check the agent log for why it did not start")
    return svc.alarms


@router.get("/alarms", response_model=AlarmList)
def list_alarms(
    svc: ServicesDep,
    _: Viewer,
    active: Annotated[bool | None, Query(description="true: only active; false: only cleared")]
    = None,
    severity: Severity | None = None,
    device: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlarmList:
    alarms = _engine(svc).query(active=active, severity=severity, device=device, limit=limit)
    return AlarmList(alarms=alarms)


@router.post("/alarms/{alarm_id}/ack", response_model=Alarm)
def ack_alarm(alarm_id: int, svc: ServicesDep, who: Operator) -> Alarm:
    try:
        return _engine(svc).ack(alarm_id, who.username)
    except AlarmNotFound:
        raise ApiError(404, "not_found", f"no alarm with id {alarm_id}",
                       "list the alarms at /api/v1/alarms and use an id from there") from None
