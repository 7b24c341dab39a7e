"""Live stream figures per stream: bitrate, MDI and SRT curves, TR 101 290 counters (no Qt).

    live samples ─► StreamStore.apply() ─► buffers[(stream, curve)]  (Mb/s, ms, packets/s)
                                       └─► counters[stream][check]   (latest *_total values)
                                       └─► recent(stream)  (increase over the last RECENT_S)

The TR 101 290 totals count since the stream started; a fault minutes ago keeps them above
zero for good. ``recent()`` is what the counters did over the last minute, from the totals the
live feed already sends (10 Hz, kept here at 1 s steps): the increase, restarts counted from
zero, and how many seconds it covers (less than RECENT_S while this desktop has not watched
the stream that long; never a guess about before).

Series names are the agent's (docs/metrics.md): ``flypack_ts_*``, ``flypack_stream_*`` and
``flypack_srt_*``. SRT packet counters are drawn as per-second rates (a running total says
little at a glance; a burst of drops does).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from desktop.model.ringbuffer import RingBuffer
from server_agent.contract import Stream, WireSample

__all__ = ["CURVES", "PLOTS", "RATES", "RECENT_S", "STREAM_SERIES", "TR101290", "Recent",
           "StreamStore", "counter_increase", "counter_rate", "has_srt"]

RECENT_S = 60.0  # the "recent" window of the TR 101 290 counts
_STEP_S = 1.0  # spacing of the totals kept for it

STREAM_SERIES = ["flypack_ts_*", "flypack_stream_*", "flypack_srt_*"]
TR101290 = ("ts_sync_loss", "sync_byte_error", "pat_error", "continuity_count_error",
            "pmt_error", "pid_error", "transport_error", "crc_error", "pcr_repetition_error",
            "pcr_discontinuity_indicator_error", "pcr_accuracy_error", "pts_error", "cat_error")
# curve name -> (series, scale to display units)
CURVES = {
    "TS bitrate Mb/s": ("flypack_ts_bitrate_bits_per_second", 1e-6),
    "leg bitrate Mb/s": ("flypack_stream_bitrate_bits_per_second", 1e-6),
    "MDI DF ms": ("flypack_stream_mdi_df_seconds", 1e3),
    "SRT RTT ms": ("flypack_srt_rtt_seconds", 1e3),
    "SRT lost pkt/s": ("flypack_srt_packets_lost_total", 1.0),
    "SRT retransmitted pkt/s": ("flypack_srt_packets_retransmitted_total", 1.0),
    "SRT too-late drops pkt/s": ("flypack_srt_packets_dropped_total", 1.0),
    "SRT buffer ms": ("flypack_srt_receive_buffer_seconds", 1e3),
    "SRT latency ms": ("flypack_srt_latency_seconds", 1e3),
}
RATES = frozenset({"SRT lost pkt/s", "SRT retransmitted pkt/s", "SRT too-late drops pkt/s"})
# plot title -> its curves; the SRT ones are offered only for streams with SRT legs
PLOTS = {
    "Bitrate Mb/s": ("TS bitrate Mb/s", "leg bitrate Mb/s"),
    "MDI DF ms": ("MDI DF ms",),
    "SRT RTT ms": ("SRT RTT ms",),
    "SRT loss pkt/s": ("SRT lost pkt/s", "SRT retransmitted pkt/s", "SRT too-late drops pkt/s"),
    "SRT buffer vs latency ms": ("SRT buffer ms", "SRT latency ms"),
}
_BY_SERIES = {series: (name, scale) for name, (series, scale) in CURVES.items()}


def has_srt(stream: Stream | None) -> bool:
    return stream is not None and any(leg.srt is not None for leg in stream.leg_status)


def counter_rate(t: Sequence[float], v: Sequence[float | None]) -> list[float | None]:
    """Per-second increase of a counter, one value per point (None for the first point, after
    a missing value, or where the counter went backwards: a restart, not a negative rate)."""
    out: list[float | None] = [None] * len(t)
    for i in range(1, len(t)):
        a, b = v[i - 1], v[i]
        if a is not None and b is not None and b >= a and t[i] > t[i - 1]:
            out[i] = (b - a) / (t[i] - t[i - 1])
    return out


def counter_increase(values: Sequence[float]) -> float:
    """How much a counter grew over consecutive totals; a drop is a restart (counted from 0)."""
    return sum(b - a if b >= a else b for a, b in pairwise(values))


@dataclass(frozen=True)
class Recent:
    counts: dict[str, float]  # check -> errors over the window
    span_s: float  # seconds the window covers (up to RECENT_S)


class StreamStore:
    def __init__(self, capacity: int = 1200) -> None:
        self.capacity = capacity
        self.buffers: dict[tuple[str, str], RingBuffer] = {}
        self.counters: dict[str, dict[str, float]] = {}
        self._totals: dict[tuple[str, str], tuple[float, float | None]] = {}
        # (stream, check) -> totals 1 s apart over the last RECENT_S (plus one before it)
        self._steps: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        self._latest: dict[tuple[str, str], tuple[float, float]] = {}

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
                    self._step(stream, check, s.t, s.v)
                continue
            spec = _BY_SERIES.get(s.series)
            if spec is None:
                continue
            name, scale = spec
            leg = s.labels.get("leg")
            key = (stream, f"{name} leg {leg}" if leg else name)
            v = None if s.v is None else s.v * scale
            if name in RATES:
                prev = self._totals.get(key)
                if prev is not None and s.t <= prev[0]:
                    continue  # a re-sent latest value (after every subscribe)
                self._totals[key] = (s.t, v)
                if prev is None:
                    continue
                v = counter_rate([prev[0], s.t], [prev[1], v])[1]
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = RingBuffer(self.capacity)
            buf.append(s.t, v)

    def keys_for(self, stream: str) -> list[tuple[str, str]]:
        return sorted(k for k in self.buffers if k[0] == stream)

    def errors(self, stream: str) -> dict[str, float]:
        got = self.counters.get(stream, {})
        return {c: got[c] for c in TR101290 if c in got}

    def _step(self, stream: str, check: str, t: float, v: float) -> None:
        key = (stream, check)
        latest = self._latest.get(key)
        if latest is not None and t <= latest[0]:
            return  # a re-sent latest value (after every subscribe)
        self._latest[key] = (t, v)
        steps = self._steps.setdefault(key, deque())
        if not steps or t - steps[-1][0] >= _STEP_S:
            steps.append((t, v))
        while len(steps) >= 2 and steps[1][0] <= t - RECENT_S:
            steps.popleft()  # keep one total at or before the window's start

    def recent(self, stream: str) -> Recent:
        """The TR 101 290 errors over the last RECENT_S (the stream's newest sample is "now")."""
        keys = [(stream, c) for c in TR101290 if (stream, c) in self._latest]
        if not keys:
            return Recent({}, 0.0)
        now = max(self._latest[k][0] for k in keys)
        start = now - RECENT_S
        counts: dict[str, float] = {}
        first = now
        for key in keys:
            points = list(self._steps[key])
            if self._latest[key][0] > points[-1][0]:
                points.append(self._latest[key])
            counts[key[1]] = counter_increase([v for _, v in points])
            first = min(first, points[0][0])
        return Recent(counts, now - max(first, start))
