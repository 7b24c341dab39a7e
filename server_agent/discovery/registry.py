"""The devices the agent watches now: configured ones, simulated ones and discovered ones.

Discovered devices come from the inventory (:meth:`set_discovered`, replaced as a whole after
every sweep or override); they are probed like configured ones, keyed by their stable id, unless
a configured or simulated device has the same address (that one wins, no double probing).

Probes write each device's latest :class:`ProbeStatus` here; the API reads snapshots. A device's
state is derived from its probes, never stored: all probes down -> down, any down or lossy ->
degraded, all up -> up, no result yet -> unknown.

Configured and simulated devices take manual overrides of name, role and notes
(:meth:`set_overrides`, stored by :class:`DeviceOverrides`); discovered ones take theirs in the
inventory (``DiscoveryService.patch``).
"""

from __future__ import annotations

from collections.abc import Iterable

from server_agent.config import DeviceSection
from server_agent.contract import Device, DeviceRole, ProbeStatus, device_state
from server_agent.discovery.errors import NameTakenError, OverrideError
from server_agent.discovery.overrides import DeviceOverrides, Override

derive_state = device_state  # the shared rule (contract.device_state)


class DeviceRegistry:
    def __init__(self, devices: Iterable[DeviceSection] = (),
                 overrides: DeviceOverrides | None = None) -> None:
        self._devices: dict[str, DeviceSection] = {}
        self._overrides = overrides
        self._status: dict[str, dict[str, ProbeStatus]] = {}
        self._discovered: dict[str, tuple[DeviceSection, Device]] = {}
        for d in devices:
            self.add(d)

    def set_discovered(self, items: Iterable[tuple[DeviceSection, Device]]) -> None:
        """Replace the discovered devices: (probe target keyed by id, its Device view)."""
        taken = {d.address for d in self._devices.values()}
        fresh = {sec.name: (sec, dev) for sec, dev in items
                 if sec.name not in self._devices and sec.address not in taken}
        for old in set(self._discovered) - set(fresh):
            self._status.pop(old, None)
        for name in fresh:
            self._status.setdefault(name, {})
        self._discovered = fresh

    def is_discovered(self, device_id: str) -> bool:
        return device_id in self._discovered

    def add(self, device: DeviceSection) -> None:
        if device.name in self._devices:
            raise ValueError(f"device {device.name!r} is known already")
        self._devices[device.name] = device
        self._status[device.name] = {}

    def targets(self) -> list[DeviceSection]:
        """What playbooks run against. A configured device's role override applies: the role
        picks its Ansible group. Names stay the ids (stable inventory host names)."""
        return [*(self._with_role_override(d) for d in self._devices.values()),
                *(sec for sec, _ in self._discovered.values())]

    def _override(self, device_id: str) -> Override | None:
        return self._overrides.get(device_id) if self._overrides is not None else None

    def _with_role_override(self, d: DeviceSection) -> DeviceSection:
        o = self._override(d.name)
        return d.model_copy(update={"role": DeviceRole(o.role)}) if o and o.role else d

    def set_probe_status(self, device: str, status: ProbeStatus) -> None:
        if device in self._status:
            self._status[device][status.probe] = status

    def probe_status(self, device: str) -> list[ProbeStatus]:
        return list(self._status.get(device, {}).values())

    def _view(self, d: DeviceSection) -> Device:
        probes = self.probe_status(d.name)
        o = self._override(d.name)
        return Device(
            id=d.name,
            name=o.name if o and o.name else d.name,
            role=DeviceRole(o.role) if o and o.role else d.role,
            address=d.address,
            vendor=d.vendor,
            model=d.model,
            state=derive_state(probes),
            rtt_budget_ms=d.rtt_budget_ms,
            probes=probes,
            overrides=o.fields if o else [],
            notes=o.notes if o else "",
        )

    def set_overrides(self, device_id: str, changes: dict[str, str | None]) -> Device:
        """Name / role / notes of a configured or simulated device (``None`` removes one)."""
        if device_id not in self._devices:
            raise OverrideError(f"no configured or simulated device {device_id!r}")
        if self._overrides is None:
            raise OverrideError("this agent keeps no device overrides (no database)")
        name = changes.get("name")
        if name and name != device_id:
            clash = next((d.id for d in self.snapshot()
                          if d.id != device_id and name in (d.id, d.name)), None)
            if clash is not None:
                raise NameTakenError(f"the name {name!r} is taken by device {clash!r}; "
                                    "pick another")
        self._overrides.set(device_id, changes)
        return self._view(self._devices[device_id])

    def _discovered_view(self, device_id: str) -> Device:
        _, dev = self._discovered[device_id]
        probes = self.probe_status(device_id)
        return dev.model_copy(update={"state": derive_state(probes), "probes": probes})

    def snapshot(self) -> list[Device]:
        return [*(self._view(d) for d in self._devices.values()),
                *(self._discovered_view(i) for i in self._discovered)]

    def get(self, device_id: str) -> Device | None:
        d = self._devices.get(device_id)
        if d is not None:
            return self._view(d)
        return self._discovered_view(device_id) if device_id in self._discovered else None

    def __len__(self) -> int:
        return len(self._devices) + len(self._discovered)
