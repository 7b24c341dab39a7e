"""The device board: the REST device list merged with the live probe samples.

    GET /devices ──set_devices()──►┐
                                   ├─► DeviceBoard.rows (name, role, address, state, RTT, loss)
    live samples ──apply()────────►┘        └── stale=True while the live link is down

State follows the agent's rule (server_agent/discovery/registry.py): all probes down -> down,
any down or lossy -> degraded, all up -> up, no result yet -> unknown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from server_agent.contract import Device, DeviceState, ProbeStatus, WireSample, device_state

PROBE_SERIES = {
    "flypack_probe_rtt_seconds": "rtt_ms",
    "flypack_probe_loss_ratio": "loss_ratio",
    "flypack_probe_up": "up",
    "flypack_probe_jitter_seconds": "jitter_ms",
}


@dataclass
class ProbeLive:
    up: bool | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    loss_ratio: float | None = None
    t: float | None = None

    @classmethod
    def from_status(cls, p: ProbeStatus) -> ProbeLive:
        return cls(p.up, p.rtt_ms, p.jitter_ms, p.loss_ratio, p.last_t)


derive_state = device_state  # the agent's rule, from the shared contract


@dataclass
class DeviceRow:
    device: Device
    probes: dict[str, ProbeLive] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.device.id

    @property
    def state(self) -> DeviceState:
        if not self.probes:
            return self.device.state
        return derive_state(self.probes.values())

    def _primary(self) -> ProbeLive | None:
        # the first probe (in the agent's order) that has a figure
        for p in self.probes.values():
            if p.rtt_ms is not None or p.loss_ratio is not None:
                return p
        return None

    @property
    def rtt_ms(self) -> float | None:
        p = self._primary()
        return p.rtt_ms if p else None

    @property
    def loss_ratio(self) -> float | None:
        losses = [p.loss_ratio for p in self.probes.values() if p.loss_ratio is not None]
        return max(losses) if losses else None

    @property
    def last_t(self) -> float | None:
        ts = [p.t for p in self.probes.values() if p.t is not None]
        return max(ts) if ts else None


class DeviceBoard:
    def __init__(self) -> None:
        self.rows: list[DeviceRow] = []
        self._index: dict[str, int] = {}
        self.stale = True  # nothing live yet

    def set_devices(self, devices: Iterable[Device]) -> bool:
        """Adopt the agent's device list; True if the rows changed shape (added/removed)."""
        old = {r.id: r for r in self.rows}
        rows = []
        for d in devices:
            row = old.get(d.id) or DeviceRow(d)
            row.device = d
            for p in d.probes:
                live = row.probes.get(p.probe)
                # REST is newer only if the live feed has nothing newer
                if live is None or (p.last_t or 0) > (live.t or 0):
                    row.probes[p.probe] = ProbeLive.from_status(p)
            rows.append(row)
        reshaped = [r.id for r in rows] != [r.id for r in self.rows]
        self.rows = rows
        self._index = {r.id: i for i, r in enumerate(rows)}
        return reshaped

    def index_of(self, device_id: str) -> int | None:
        return self._index.get(device_id)

    def apply(self, samples: Iterable[WireSample]) -> set[int]:
        """Fold live probe samples in; returns the indexes of the rows that changed."""
        changed: set[int] = set()
        for s in samples:
            attr = PROBE_SERIES.get(s.series)
            if attr is None:
                continue
            i = self._index.get(s.labels.get("device", ""))
            if i is None:
                continue
            probe = s.labels.get("probe", "?")
            live = self.rows[i].probes.setdefault(probe, ProbeLive())
            v = s.v
            if v is not None and not math.isfinite(v):
                v = None
            if attr == "up":
                live.up = None if v is None else v >= 0.5
            elif attr in ("rtt_ms", "jitter_ms"):
                setattr(live, attr, None if v is None else v * 1000.0)
            else:
                live.loss_ratio = v
            live.t = max(live.t or 0.0, s.t)
            changed.add(i)
        return changed
