"""Deviations seen at once on many devices: one cause near the agent, not N device faults.

    CommonMode.add(kind, device, t, excess, over)   each judged sample
    CommonMode.excess(kind, t)   what the devices share now (>= 0): the excess that
                                 needed(n) of them reach
    CommonMode.over(kind, t)     (devices over their limit, devices compared)
    CommonMode.rolled_up(kind, t)  enough of them over their limit at once: a common cause

Per probe kind (``icmp``, ``udp``, ``tcp``) the engine keeps each device's latest excess
(RTT over its own learned baseline, in ms; or its loss ratio). When the agent's host is busy,
or its own link slows, devices answer late (or lose probes) at the same time, though not all
by the same amount: the excess that ``needed(n)`` of the ``n`` devices sampled within
``window_s`` reach (a ``share`` of them, at least ``min_devices``) measures that shared part,
and each device is judged on its excess minus it. A lone device's real fault stands out (it
moves that order statistic by at most one place), and the scatter a busy host adds to a few
devices at a time is discounted. A device's fault is discounted only when ``needed(n)``
devices are that late too, which is exactly when the engine raises one condition about the
common cause instead, so nothing falls between the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RECOMPUTE_S = 0.1  # the quantile is recomputed at most this often per kind


@dataclass(slots=True)
class _Latest:
    t: float
    excess: float
    over: bool


class _Kind:
    __slots__ = ("at", "devices", "n", "n_over", "shared")

    def __init__(self) -> None:
        self.devices: dict[str, _Latest] = {}
        self.at = -1e18
        self.shared = 0.0
        self.n = 0
        self.n_over = 0


class CommonMode:
    def __init__(self, window_s: float, min_devices: int, share: float) -> None:
        self.window = window_s
        self.min_devices = min_devices
        self.share = share
        self._kinds: dict[str, _Kind] = {}

    def add(self, kind: str, device: str, t: float, excess_ms: float, over: bool) -> None:
        k = self._kinds.get(kind)
        if k is None:
            k = self._kinds[kind] = _Kind()
        k.devices[device] = _Latest(t, excess_ms, over)

    def forget(self, device: str) -> None:
        for k in self._kinds.values():
            k.devices.pop(device, None)

    def _refresh(self, kind: str, t: float) -> _Kind | None:
        k = self._kinds.get(kind)
        if k is None:
            return None
        if t - k.at >= RECOMPUTE_S or t < k.at:
            since = t - self.window
            recent = [d for d in k.devices.values() if d.t >= since]
            k.n = len(recent)
            k.n_over = sum(1 for d in recent if d.over)
            xs = sorted(d.excess for d in recent)
            need = self.needed(len(xs))
            k.shared = xs[len(xs) - need] if len(xs) >= need else 0.0
            k.at = t
        return k

    def excess(self, kind: str, t: float) -> float:
        """The excess most devices of ``kind`` show now (>= 0); 0 with too few to tell."""
        k = self._refresh(kind, t)
        if k is None or k.n < self.min_devices:
            return 0.0
        return max(0.0, k.shared)

    def over(self, kind: str, t: float) -> tuple[int, int]:
        """(devices over their own limit, devices compared) within the window."""
        k = self._refresh(kind, t)
        return (0, 0) if k is None else (k.n_over, k.n)

    def rolled_up(self, kind: str, t: float) -> bool:
        """True when enough devices are over their limit at once to blame a common cause."""
        n_over, n = self.over(kind, t)
        return n >= self.min_devices and n_over >= self.needed(n)

    def needed(self, n: int) -> int:
        """How many of ``n`` devices must be off together to be a common cause."""
        return max(self.min_devices, math.ceil(self.share * n))
