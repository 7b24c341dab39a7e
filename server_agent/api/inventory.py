"""Devices as the agent knows them now (configured, simulated, discovered)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from fastapi import APIRouter

from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import Device, DevicePatch, DeviceRole, DeviceState
from server_agent.discovery.errors import NameTakenError, OverrideError
from server_agent.discovery.overrides import patch_changes
from server_agent.discovery.views import matches

router = APIRouter(tags=["inventory"])


@router.get("/devices", response_model=list[Device])
def list_devices(svc: ServicesDep, _: Viewer, role: DeviceRole | None = None,
                 state: DeviceState | None = None,
                 source: Literal["config", "sim", "discovery"] | None = None,
                 vendor: str | None = None, network: str | None = None, q: str | None = None,
                 present: bool | None = None) -> list[Device]:
    if network is not None:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ApiError(422, "invalid_input", f"network {network!r} is not a CIDR",
                           "write it like 192.168.1.0/24") from None
    return [d for d in svc.devices.snapshot()
            if matches(d, role.value if role else None, state.value if state else None, source,
                       vendor, network, q, present)]


@router.get("/devices/{device_id}", response_model=Device)
def get_device(device_id: str, svc: ServicesDep, _: Viewer) -> Device:
    dev = svc.devices.get(device_id)
    if dev is None and svc.discovery is not None:
        dev = svc.discovery.device(device_id)  # e.g. gone, or shadowed by a configured one
    if dev is None:
        raise ApiError(404, "not_found", f"no device {device_id!r}", "list /api/v1/devices")
    return dev


@router.patch("/devices/{device_id}", response_model=Device)
def patch_device(device_id: str, body: DevicePatch, svc: ServicesDep, _: Operator) -> Device:
    try:
        if svc.discovery is not None:
            return svc.discovery.patch(device_id, body)
        return svc.devices.set_overrides(device_id, patch_changes(body))
    except NameTakenError as exc:
        raise ApiError(409, "conflict", str(exc), "names must be unique") from None
    except OverrideError as exc:
        raise ApiError(404, "not_found", str(exc), "list /api/v1/devices") from None

# GET /streams lives in api/streams.py (the stream service)
