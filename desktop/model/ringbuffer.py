"""A fixed-size ring of (t, v) float64 samples; ``None`` is stored as NaN for plotting."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class RingBuffer:
    """Keeps the newest ``capacity`` samples; :meth:`arrays` returns them oldest first.

    Appends are O(1) with no allocation; samples not newer than the last one are ignored
    (the live feed re-sends the latest value after every (re)subscribe).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._t: FloatArray = np.full(capacity, np.nan)
        self._v: FloatArray = np.full(capacity, np.nan)
        self._next = 0  # index of the next write
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, t: float, v: float | None) -> bool:
        """Add one sample; False (and nothing stored) if it is not newer than the last."""
        last = self.last_t
        if last is not None and t <= last:
            return False
        self._t[self._next] = t
        self._v[self._next] = math.nan if v is None else v
        self._next = (self._next + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        return True

    @property
    def last_t(self) -> float | None:
        if not self._size:
            return None
        return float(self._t[self._next - 1])

    @property
    def first_t(self) -> float | None:
        if not self._size:
            return None
        return float(self._t[self._next % self.capacity if self._size == self.capacity else 0])

    @property
    def last_v(self) -> float | None:
        if not self._size:
            return None
        v = float(self._v[self._next - 1])
        return None if math.isnan(v) else v

    def arrays(self) -> tuple[FloatArray, FloatArray]:
        """Copies of the times and values, oldest first."""
        if self._size < self.capacity:
            return self._t[: self._size].copy(), self._v[: self._size].copy()
        i = self._next
        return (np.concatenate((self._t[i:], self._t[:i])),
                np.concatenate((self._v[i:], self._v[:i])))

    def tail(self, t0: float, extra: int = 1) -> tuple[FloatArray, FloatArray]:
        """Copies of the samples with t >= t0 plus up to ``extra`` older ones, oldest first;
        O(returned) (the 10 Hz plot asks only for what is new)."""
        n = min(self._size, self._count_since(t0) + extra)
        idx = (np.arange(n) + (self._next - n)) % self.capacity
        return self._t[idx], self._v[idx]

    def _count_since(self, t0: float) -> int:
        # the logical order is [_next:] then [:_next] when full, [:size] otherwise; both sorted
        if self._size < self.capacity:
            return self._size - int(np.searchsorted(self._t[: self._size], t0))
        newer = self._t[: self._next]
        n = self._next - int(np.searchsorted(newer, t0))
        if n == self._next:
            older = self._t[self._next:]
            n += len(older) - int(np.searchsorted(older, t0))
        return n

    def clear(self) -> None:
        self._next = 0
        self._size = 0
