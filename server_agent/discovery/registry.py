"""The devices the agent watches now: configured ones, simulated ones, later discovered ones.

Probes write each device's latest :class:`ProbeStatus` here; the API reads snapshots. A device's
state is derived from its probes, never stored: all probes down -> down, any down or lossy ->
degraded, all up -> up, no result yet -> unknown.
"""

from __future__ import annotations

from collections.abc import Iterable

from server_agent.config import DeviceSection
from server_agent.contract import Device, DeviceState, ProbeStatus


def derive_state(probes: Iterable[ProbeStatus]) -> DeviceState:
    ups = [p.up for p in probes if p.up is not None]
    if not ups:
        return DeviceState.unknown
    if not any(ups):
        return DeviceState.down
    lossy = any((p.loss_ratio or 0) > 0 for p in probes)
    return DeviceState.up if all(ups) and not lossy else DeviceState.degraded


class DeviceRegistry:
    def __init__(self, devices: Iterable[DeviceSection] = ()) -> None:
        self._devices: dict[str, DeviceSection] = {}
        self._status: dict[str, dict[str, ProbeStatus]] = {}
        for d in devices:
            self.add(d)

    def add(self, device: DeviceSection) -> None:
        if device.name in self._devices:
            raise ValueError(f"device {device.name!r} is known already")
        self._devices[device.name] = device
        self._status[device.name] = {}

    def targets(self) -> list[DeviceSection]:
        return list(self._devices.values())

    def set_probe_status(self, device: str, status: ProbeStatus) -> None:
        if device in self._status:
            self._status[device][status.probe] = status

    def probe_status(self, device: str) -> list[ProbeStatus]:
        return list(self._status.get(device, {}).values())

    def _view(self, d: DeviceSection) -> Device:
        probes = self.probe_status(d.name)
        return Device(
            id=d.name,
            name=d.name,
            role=d.role,
            address=d.address,
            vendor=d.vendor,
            model=d.model,
            state=derive_state(probes),
            rtt_budget_ms=d.rtt_budget_ms,
            probes=probes,
        )

    def snapshot(self) -> list[Device]:
        return [self._view(d) for d in self._devices.values()]

    def get(self, device_id: str) -> Device | None:
        d = self._devices.get(device_id)
        return self._view(d) if d else None

    def __len__(self) -> int:
        return len(self._devices)
