"""Live stream figures per stream: bitrate curves and TR 101 290 counters (no Qt).

    live samples ─► StreamStore.apply() ─► buffers[(stream, curve)]  (bitrate in Mb/s, DF ms)
                                       └─► counters[stream][check]   (latest *_total values)

Series names are the agent's (docs/metrics.md): ``flypack_ts_*`` and ``flypack_stream_*``.
"""

from __future__ import annotations

from collections.abc import Iterable

from desktop.model.ringbuffer import RingBuffer
from server_agent.contract import WireSample

__all__ = ["CURVES", "STREAM_SERIES", "TR101290", "StreamStore"]

STREAM_SERIES = ["flypack_ts_*", "flypack_stream_*"]
TR101290 = ("ts_sync_loss", "sync_byte_error", "pat_error", "continuity_count_error",
            "pmt_error", "pid_error", "transport_error", "crc_error", "pcr_repetition_error",
            "pcr_discontinuity_indicator_error", "pcr_accuracy_error", "pts_error", "cat_error")
# curve name -> (series, scale to display units)
CURVES = {
    "TS bitrate Mb/s": ("flypack_ts_bitrate_bits_per_second", 1e-6),
    "leg bitrate Mb/s": ("flypack_stream_bitrate_bits_per_second", 1e-6),
    "MDI DF ms": ("flypack_stream_mdi_df_seconds", 1e3),
}
_BY_SERIES = {series: (name, scale) for name, (series, scale) in CURVES.items()}


class StreamStore:
    def __init__(self, capacity: int = 1200) -> None:
        self.capacity = capacity
        self.buffers: dict[tuple[str, str], RingBuffer] = {}
        self.counters: dict[str, dict[str, float]] = {}
        self.dirty: set[tuple[str, str]] = set()

    def apply(self, samples: Iterable[WireSample]) -> None:
        for s in samples:
            stream = s.labels.get("stream")
            if not stream:
                continue
            if (s.series.startswith("flypack_ts_") and s.series.endswith("_error_total")) \
                    or s.series == "flypack_ts_ts_sync_loss_total":
                check = s.series.removeprefix("flypack_ts_").removesuffix("_total")
                if s.v is not None:
                    self.counters.setdefault(stream, {})[check] = s.v
                continue
            spec = _BY_SERIES.get(s.series)
            if spec is None:
                continue
            name, scale = spec
            leg = s.labels.get("leg")
            key = (stream, f"{name} leg {leg}" if leg else name)
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = RingBuffer(self.capacity)
            if buf.append(s.t, None if s.v is None else s.v * scale):
                self.dirty.add(key)

    def keys_for(self, stream: str) -> list[tuple[str, str]]:
        return sorted(k for k in self.buffers if k[0] == stream)

    def errors(self, stream: str) -> dict[str, float]:
        got = self.counters.get(stream, {})
        return {c: got[c] for c in TR101290 if c in got}

    def take_dirty(self) -> set[tuple[str, str]]:
        out, self.dirty = self.dirty, set()
        return out
