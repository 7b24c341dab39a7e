"""Injected faults of the simulated devices, as set through ``/api/v1/sim/faults``.

The services read :meth:`FaultBook.get` on every packet or connection (a dict lookup), so a
change takes effect at once; listeners (the snmpsim control file) hear about every change.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from server_agent.contract import SimFault, SimFaultState

NO_FAULT = SimFault()


class FaultError(ValueError):
    """A fault request that cannot apply: unknown device, or TS errors on a device without
    a stream. ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


class FaultBook:
    def __init__(self, devices: Iterable[str], streaming: Iterable[str] = ()) -> None:
        self._devices = set(devices)
        self._streaming = set(streaming)
        self._faults: dict[str, SimFault] = {}
        self._listeners: list[Callable[[], None]] = []
        self.rng = random.Random()

    def on_change(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in self._listeners:
            fn()

    def _check(self, device: str) -> None:
        if device not in self._devices:
            raise FaultError(404, f"no simulated device {device!r}",
                             "list the simulated devices at /api/v1/sim/devices (stream "
                             "links, link-NN, are hops of the streams' paths)")

    def get(self, device: str) -> SimFault:
        return self._faults.get(device, NO_FAULT)

    def set(self, device: str, fault: SimFault) -> SimFault:
        self._check(device)
        if fault.ts_errors.active and device not in self._streaming:
            raise FaultError(422, f"{device} sends no stream, so it cannot have ts_errors",
                             "pick an encoder that sends a stream (see /api/v1/sim/devices)")
        if fault.active:
            self._faults[device] = fault
        else:
            self._faults.pop(device, None)
        self._changed()
        return fault

    def clear(self, device: str | None = None) -> None:
        if device is None:
            self._faults.clear()
        else:
            self._check(device)
            self._faults.pop(device, None)
        self._changed()

    def active(self) -> list[SimFaultState]:
        return [SimFaultState(device=d, fault=f) for d, f in sorted(self._faults.items())]

    def lost(self, device: str) -> bool:
        """One packet's fate under the device's loss ratio (and ``down``)."""
        f = self._faults.get(device)
        if f is None:
            return False
        return f.down or (f.loss_ratio > 0 and self.rng.random() < f.loss_ratio)
