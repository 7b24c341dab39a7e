"""Running figures of one probe: last RTT, RFC 3550 jitter, loss over a window, totals."""

from __future__ import annotations

from collections import deque

JITTER_GAIN = 1 / 16  # RFC 3550 §6.4.1: J += (|D| - J) / 16


class ProbeStats:
    """Feed it every probe result (RTT in seconds, ``None`` when lost)."""

    __slots__ = ("_last_ok", "_lost_in_window", "_window", "jitter", "lost", "rtt", "sent")

    def __init__(self, window: int) -> None:
        self._window: deque[bool] = deque(maxlen=window)
        self._lost_in_window = 0
        self._last_ok: float | None = None
        self.sent = 0
        self.lost = 0
        self.rtt: float | None = None
        self.jitter: float | None = None

    def add(self, rtt: float | None) -> None:
        ok = rtt is not None
        w = self._window
        if len(w) == w.maxlen and not w[0]:
            self._lost_in_window -= 1
        w.append(ok)
        self.sent += 1
        self.rtt = rtt
        if rtt is None:
            self.lost += 1
            self._lost_in_window += 1
            return
        # D is the difference between consecutive *answered* probes' RTTs
        if self._last_ok is not None:
            j = self.jitter or 0.0
            self.jitter = j + (abs(rtt - self._last_ok) - j) * JITTER_GAIN
        self._last_ok = rtt

    @property
    def up(self) -> bool | None:
        return self._window[-1] if self._window else None

    @property
    def loss_ratio(self) -> float | None:
        n = len(self._window)
        return self._lost_in_window / n if n else None

    @property
    def consecutive_lost(self) -> int:
        n = 0
        for ok in reversed(self._window):
            if ok:
                break
            n += 1
        return n
