"""RTT history per (device, probe) for the live plots."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.model.ringbuffer import FloatArray, RingBuffer
from server_agent.contract import WireSample

SeriesKey = tuple[str, str]  # (device, probe)
RTT_SERIES = "flypack_probe_rtt_seconds"


class SeriesStore:
    """Ring buffers of RTT in milliseconds, created on first sample.

    Several plots read one store (the devices tab's and the device page's): each keeps its own
    record of what it drew (``generation`` for new series, each buffer's ``last_t`` for new
    samples). A shared "dirty" set that one reader empties starved the other: none here.
    """

    def __init__(self, capacity: int = 1200) -> None:
        self.capacity = capacity
        self.buffers: dict[SeriesKey, RingBuffer] = {}
        self.generation = 0  # +1 whenever a series appears

    def apply(self, samples: Iterable[WireSample]) -> None:
        for s in samples:
            if s.series != RTT_SERIES:
                continue
            key = (s.labels.get("device", ""), s.labels.get("probe", ""))
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = RingBuffer(self.capacity)
                self.generation += 1
            buf.append(s.t, None if s.v is None else s.v * 1000.0)

    def keys_for(self, devices: Iterable[str]) -> list[SeriesKey]:
        wanted = set(devices)
        return sorted(k for k in self.buffers if k[0] in wanted)

    def arrays(self, key: SeriesKey) -> tuple[FloatArray, FloatArray]:
        return self.buffers[key].arrays()

    def first_t(self, key: SeriesKey) -> float | None:
        buf = self.buffers.get(key)
        return buf.first_t if buf is not None else None

    def points(self, devices: Iterable[str]) -> int:
        return sum(len(self.buffers[k]) for k in self.keys_for(devices))
