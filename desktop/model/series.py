"""RTT history per (device, probe) for the live plot, with a dirty set for the 10 Hz redraw."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.model.ringbuffer import FloatArray, RingBuffer
from server_agent.contract import WireSample

SeriesKey = tuple[str, str]  # (device, probe)
RTT_SERIES = "flypack_probe_rtt_seconds"


class SeriesStore:
    """Ring buffers of RTT in milliseconds, created on first sample."""

    def __init__(self, capacity: int = 1200) -> None:
        self.capacity = capacity
        self.buffers: dict[SeriesKey, RingBuffer] = {}
        self.dirty: set[SeriesKey] = set()

    def apply(self, samples: Iterable[WireSample]) -> None:
        for s in samples:
            if s.series != RTT_SERIES:
                continue
            key = (s.labels.get("device", ""), s.labels.get("probe", ""))
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = RingBuffer(self.capacity)
            if buf.append(s.t, None if s.v is None else s.v * 1000.0):
                self.dirty.add(key)

    def keys_for(self, devices: Iterable[str]) -> list[SeriesKey]:
        wanted = set(devices)
        return sorted(k for k in self.buffers if k[0] in wanted)

    def take_dirty(self) -> set[SeriesKey]:
        out, self.dirty = self.dirty, set()
        return out

    def arrays(self, key: SeriesKey) -> tuple[FloatArray, FloatArray]:
        return self.buffers[key].arrays()

    def first_t(self, key: SeriesKey) -> float | None:
        buf = self.buffers.get(key)
        return buf.first_t if buf is not None else None

    def points(self, devices: Iterable[str]) -> int:
        return sum(len(self.buffers[k]) for k in self.keys_for(devices))
