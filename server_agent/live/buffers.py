"""Per-series ring buffers: full rate for the last 2 minutes, 1 s min/mean/max for an hour.

Trimming is by time, not by count, so a series sampled at 1 Hz keeps the same 2 minutes as one
sampled at 10 Hz. Missing values (``None``) are kept in the fine buffer (a gap is information)
and left out of the 1 s aggregates.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

FINE_WINDOW_S = 120.0
COARSE_WINDOW_S = 3600


@dataclass(slots=True)
class Aggregate:
    """One second of a series."""

    t: float  # start of the second
    min: float
    mean: float
    max: float
    count: int


class SeriesBuffer:
    __slots__ = ("_bucket", "_bucket_t", "coarse", "fine")

    def __init__(self) -> None:
        self.fine: deque[tuple[float, float | None]] = deque()
        self.coarse: deque[Aggregate] = deque(maxlen=COARSE_WINDOW_S)
        self._bucket_t: float | None = None
        self._bucket: list[float] = []

    def append(self, t: float, v: float | None) -> None:
        fine = self.fine
        fine.append((t, v))
        horizon = t - FINE_WINDOW_S
        while fine and fine[0][0] < horizon:
            fine.popleft()
        sec = math.floor(t)
        if self._bucket_t is not None and sec != self._bucket_t:
            self._roll()
        self._bucket_t = sec
        if v is not None:
            self._bucket.append(v)

    def _roll(self) -> None:
        b = self._bucket
        if b and self._bucket_t is not None:
            self.coarse.append(Aggregate(self._bucket_t, min(b), sum(b) / len(b), max(b), len(b)))
        self._bucket = []

    @property
    def latest(self) -> tuple[float, float | None] | None:
        return self.fine[-1] if self.fine else None

    def window(self, start: float, end: float) -> list[tuple[float, float | None]]:
        """Points in [start, end]: full rate where the fine buffer reaches, else 1 s means."""
        fine_from = self.fine[0][0] if self.fine else math.inf
        out: list[tuple[float, float | None]] = []
        if start < fine_from:
            out.extend(
                (a.t, a.mean) for a in self.coarse if start <= a.t <= end and a.t < fine_from
            )
            # the still-open second is only in the fine buffer, which covers it
        out.extend((t, v) for t, v in self.fine if start <= t <= end)
        return out

    def extremes_since(self, since: float) -> tuple[float | None, float | None]:
        """(min, max) of the fine samples newer than ``since`` (for per-scrape _min/_max)."""
        lo: float | None = None
        hi: float | None = None
        for t, v in reversed(self.fine):
            if t <= since:
                break
            if v is None:
                continue
            lo = v if lo is None or v < lo else lo
            hi = v if hi is None or v > hi else hi
        return lo, hi
