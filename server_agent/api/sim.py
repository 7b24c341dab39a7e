"""Fault injection into the simulated segment (mounted only when ``[sim] enabled``).

Trainees and tests break simulated devices here and watch the agent notice: viewers may look,
operators may break and repair. The segment runs in the agent (``[sim] enabled``) or, in the
demo, in its own process; then every call is forwarded to that process's control endpoint
(:mod:`server_agent.sim.control`), and a simulator that is gone answers 503 saying why.
"""

from __future__ import annotations

from fastapi import APIRouter

from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import SimDeviceInfo, SimFault, SimFaultState
from server_agent.runtime import Services
from server_agent.sim.control import SimControl
from server_agent.sim.faults import FaultError

router = APIRouter(prefix="/sim", tags=["simulator"])
_CODES = {404: "not_found", 500: "internal", 503: "unavailable"}


def _segment(svc: Services) -> SimControl:
    if svc.sim is None:
        raise ApiError(404, "not_found", "the simulated segment is not running",
                       "start the agent with [sim] enabled = true or `flypack-agent demo`")
    return svc.sim


def _fail(exc: FaultError) -> ApiError:
    return ApiError(exc.status, _CODES.get(exc.status, "invalid_input"), str(exc), exc.hint)


@router.get("/devices", response_model=list[SimDeviceInfo])
async def sim_devices(svc: ServicesDep, _: Viewer) -> list[SimDeviceInfo]:
    try:
        return await _segment(svc).list_devices()
    except FaultError as exc:
        raise _fail(exc) from None


@router.get("/faults", response_model=list[SimFaultState])
async def sim_faults(svc: ServicesDep, _: Viewer) -> list[SimFaultState]:
    try:
        return await _segment(svc).list_faults()
    except FaultError as exc:
        raise _fail(exc) from None


@router.put("/faults/{device}", response_model=SimFaultState)
async def set_fault(device: str, fault: SimFault, svc: ServicesDep,
                    _: Operator) -> SimFaultState:
    try:
        return await _segment(svc).put_fault(device, fault)
    except FaultError as exc:
        raise _fail(exc) from None


@router.delete("/faults/{device}", status_code=204)
async def clear_fault(device: str, svc: ServicesDep, _: Operator) -> None:
    try:
        await _segment(svc).clear_faults(device)
    except FaultError as exc:
        raise _fail(exc) from None


@router.delete("/faults", status_code=204)
async def clear_all_faults(svc: ServicesDep, _: Operator) -> None:
    try:
        await _segment(svc).clear_faults()
    except FaultError as exc:
        raise _fail(exc) from None
