"""Devices as the agent knows them now."""

from __future__ import annotations

from fastapi import APIRouter

from server_agent.api.deps import ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import Device

router = APIRouter(tags=["inventory"])


@router.get("/devices", response_model=list[Device])
def list_devices(svc: ServicesDep, _: Viewer) -> list[Device]:
    return svc.devices.snapshot()


@router.get("/devices/{device_id}", response_model=Device)
def get_device(device_id: str, svc: ServicesDep, _: Viewer) -> Device:
    dev = svc.devices.get(device_id)
    if dev is None:
        raise ApiError(404, "not_found", f"no device {device_id!r}", "list /api/v1/devices")
    return dev

# GET /streams lives in api/streams.py (the stream service)
