"""Fault injection into the simulated segment (mounted only when ``[sim] enabled``).

Trainees and tests break simulated devices here and watch the agent notice: viewers may look,
operators may break and repair.
"""

from __future__ import annotations

from fastapi import APIRouter

from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import SimDeviceInfo, SimFault, SimFaultState
from server_agent.runtime import Services
from server_agent.sim.faults import FaultError
from server_agent.sim.segment import SimulatedSegment

router = APIRouter(prefix="/sim", tags=["simulator"])


def _segment(svc: Services) -> SimulatedSegment:
    if svc.sim is None:
        raise ApiError(404, "not_found", "the simulated segment is not running",
                       "start the agent with [sim] enabled = true or `flypack-agent demo`")
    return svc.sim


def _fail(exc: FaultError) -> ApiError:
    return ApiError(exc.status, "not_found" if exc.status == 404 else "invalid_input",
                    str(exc), exc.hint)


@router.get("/devices", response_model=list[SimDeviceInfo])
async def sim_devices(svc: ServicesDep, _: Viewer) -> list[SimDeviceInfo]:
    return _segment(svc).device_info()


@router.get("/faults", response_model=list[SimFaultState])
async def sim_faults(svc: ServicesDep, _: Viewer) -> list[SimFaultState]:
    return _segment(svc).faults.active()


@router.put("/faults/{device}", response_model=SimFaultState)
async def set_fault(device: str, fault: SimFault, svc: ServicesDep,
                    _: Operator) -> SimFaultState:
    try:
        _segment(svc).faults.set(device, fault)
    except FaultError as exc:
        raise _fail(exc) from None
    return SimFaultState(device=device, fault=fault)


@router.delete("/faults/{device}", status_code=204)
async def clear_fault(device: str, svc: ServicesDep, _: Operator) -> None:
    try:
        _segment(svc).faults.clear(device)
    except FaultError as exc:
        raise _fail(exc) from None


@router.delete("/faults", status_code=204)
async def clear_all_faults(svc: ServicesDep, _: Operator) -> None:
    _segment(svc).faults.clear()
