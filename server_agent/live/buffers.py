"""Per-series ring buffers: full rate for the last 2 minutes, 1 s min/mean/max for an hour.

A seed-scale flypack has thousands of series, so the layout is compact rather than a deque of
tuples (which cost ~100 bytes a point and would grow past the agent's memory budget in an hour):

- full rate: two ``array('d')`` (times, values; NaN = missing) trimmed by time, so a series
  sampled at 1 Hz keeps the same 2 minutes as one sampled at 10 Hz;
- 1 s aggregates: one chunk per minute of ``array('f')``; min and max are stored only for
  seconds that had more than one sample, and a minute whose values are all equal (a link
  that stays up, a loss of 0) shrinks to one number when it is sealed.

Missing values (``None``) are kept at full rate (a gap is information) and left out of the
aggregates. Counters can skip the aggregates (``coarse=False``): their history is a rate that
VictoriaMetrics computes, and the latest value is all the agent needs.
"""

from __future__ import annotations

import math
from array import array
from collections import deque

FINE_WINDOW_S = 120.0
COARSE_WINDOW_S = 3600
CHUNK_S = 60
_NAN = math.nan


class _Chunk:
    """One minute of 1 s aggregates. ``mean`` is a float once sealed as constant."""

    __slots__ = ("hi", "lo", "mean", "start")

    def __init__(self, start: int) -> None:
        self.start = start
        self.mean: array[float] | float = array("f", [_NAN]) * CHUNK_S
        self.lo: array[float] | None = None
        self.hi: array[float] | None = None

    def put(self, i: int, lo: float, mean: float, hi: float) -> None:
        assert isinstance(self.mean, array)
        self.mean[i] = mean
        if lo != hi and self.lo is None:
            self.lo, self.hi = array("f", self.mean), array("f", self.mean)
        if self.lo is not None and self.hi is not None:
            self.lo[i], self.hi[i] = lo, hi

    def seal(self) -> None:
        m = self.mean
        if self.lo is None and isinstance(m, array):
            first = m[0]
            if all(v == first for v in m) or all(v != v for v in m):
                self.mean = first

    def points(self, variant: str) -> list[tuple[int, float]]:
        col = {"min": self.lo, "max": self.hi}.get(variant) or self.mean
        if isinstance(col, float):
            return [] if col != col else [(self.start + i, col) for i in range(CHUNK_S)]
        return [(self.start + i, float(v)) for i, v in enumerate(col) if v == v]


class SeriesBuffer:
    __slots__ = ("_chunks", "_ft", "_fv", "_head", "_hi", "_lo", "_n", "_sec", "_sum", "coarse")

    def __init__(self, coarse: bool = True) -> None:
        self.coarse = coarse
        self._ft = array("d")
        self._fv = array("d")
        self._head = 0  # index of the oldest live point in _ft/_fv
        self._chunks: deque[_Chunk] = deque(maxlen=COARSE_WINDOW_S // CHUNK_S + 1)
        self._sec: int | None = None
        self._n = 0
        self._sum = 0.0
        self._lo = math.inf
        self._hi = -math.inf

    def append(self, t: float, v: float | None) -> None:
        self._ft.append(t)
        self._fv.append(_NAN if v is None else v)
        horizon = t - FINE_WINDOW_S
        ft, h = self._ft, self._head
        while ft[h] < horizon:
            h += 1
        if h > 64 and h * 2 > len(ft):  # compact now and then, not on every sample
            del self._ft[:h], self._fv[:h]
            h = 0
        self._head = h
        if not self.coarse:
            return
        sec = math.floor(t)
        if self._sec is not None and sec != self._sec:
            self._roll()
        self._sec = sec
        if v is not None:
            self._n += 1
            self._sum += v
            self._lo = min(self._lo, v)
            self._hi = max(self._hi, v)

    def _roll(self) -> None:
        sec = self._sec
        if sec is None or not self._n:
            return
        start = sec - sec % CHUNK_S
        chunk = self._chunks[-1] if self._chunks else None
        if chunk is None or chunk.start != start:
            if chunk is not None:
                chunk.seal()
            chunk = _Chunk(start)
            self._chunks.append(chunk)
        chunk.put(sec - start, self._lo, self._sum / self._n, self._hi)
        self._n, self._sum, self._lo, self._hi = 0, 0.0, math.inf, -math.inf

    @property
    def latest(self) -> tuple[float, float | None] | None:
        if len(self._ft) <= self._head:
            return None
        v = self._fv[-1]
        return self._ft[-1], (None if v != v else v)

    @property
    def fine(self) -> list[tuple[float, float | None]]:
        """The full-rate points of the last 2 minutes (a copy)."""
        return [(t, None if v != v else v)
                for t, v in zip(self._ft[self._head:], self._fv[self._head:], strict=True)]

    def aggregates(self, variant: str = "") -> list[tuple[int, float]]:
        """The 1 s aggregates of the last hour: mean, or ``min``/``max``."""
        return [p for c in self._chunks for p in c.points(variant)]

    def window(self, start: float, end: float, variant: str = ""
               ) -> list[tuple[float, float | None]]:
        """Points in [start, end]: full rate where that reaches, else 1 s aggregates."""
        h = self._head
        fine_from = self._ft[h] if len(self._ft) > h else math.inf
        out: list[tuple[float, float | None]] = []
        if start < fine_from:
            out.extend((float(t), v) for t, v in self.aggregates(variant)
                       if start <= t <= end and t < fine_from)
        out.extend((t, v) for t, v in self.fine if start <= t <= end)
        return out

    def extremes_since(self, since: float) -> tuple[float | None, float | None]:
        """(min, max) of the full-rate samples newer than ``since`` (for per-scrape peaks)."""
        lo: float | None = None
        hi: float | None = None
        ft, fv = self._ft, self._fv
        for i in range(len(ft) - 1, self._head - 1, -1):
            if ft[i] <= since:
                break
            v = fv[i]
            if v != v:
                continue
            lo = v if lo is None or v < lo else lo
            hi = v if hi is None or v > hi else hi
        return lo, hi
