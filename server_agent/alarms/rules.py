"""The small state machines the alarm rules are made of, pure and clock-free (times are passed).

* :class:`Sustained` — raise after a condition held for ``raise_after_s``, clear after the
  clearing condition held for ``clear_after_s`` (time hysteresis, plus a dead band when the
  raise and clear conditions differ).
* :class:`Streak` — raise after N bad results in a row, clear after M good ones in a row.
* :class:`Baseline` — a device's own RTT: mean and mean deviation, learned from its first
  ``samples`` answers, then adapting slowly (EWMA) only while the caller says it may.
"""

from __future__ import annotations

from typing import Literal

Transition = Literal["raise", "clear"] | None


class Sustained:
    __slots__ = ("_held", "_since", "active", "clear_after_s", "raise_after_s")

    def __init__(self, raise_after_s: float, clear_after_s: float, active: bool = False) -> None:
        self.raise_after_s = raise_after_s
        self.clear_after_s = clear_after_s
        self.active = active
        self._since: float | None = None
        self._held = 0  # samples held in a row (see hold)

    def update(self, t: float, bad: bool, good: bool) -> Transition:
        """``bad``: the raise condition holds now; ``good``: the clear condition holds now."""
        self._held = 0
        if not self.active:
            if not bad:
                self._since = None
                return None
            if self._since is None:
                self._since = t
            if t - self._since >= self.raise_after_s:
                self.active, self._since = True, None
                return "raise"
            return None
        if not good:
            self._since = None
            return None
        if self._since is None:
            self._since = t
        if t - self._since >= self.clear_after_s:
            self.active, self._since = False, None
            return "clear"
        return None

    def hold(self) -> None:
        """A sample that says nothing either way (taken while the agent itself starved). A
        clear keeps waiting (it is no evidence against it). A raise needs the condition all
        along: one such gap is bridged, two in a row start its wait over."""
        self._held += 1
        if not self.active and self._held >= 2:
            self._since = None


class Streak:
    __slots__ = ("active", "bad", "clear_after", "good", "raise_after")

    def __init__(self, raise_after: int, clear_after: int, active: bool = False) -> None:
        self.raise_after = raise_after
        self.clear_after = clear_after
        self.active = active
        self.bad = 0
        self.good = 0

    def update(self, ok: bool) -> Transition:
        if ok:
            self.bad = 0
            self.good += 1
            if self.active and self.good >= self.clear_after:
                self.active = False
                return "clear"
        else:
            self.good = 0
            self.bad += 1
            if not self.active and self.bad >= self.raise_after:
                self.active = True
                return "raise"
        return None


class Baseline:
    """EWMA mean and mean absolute deviation (as TCP's SRTT/RTTVAR), in milliseconds."""

    __slots__ = ("alpha", "dev", "mean", "n", "samples")

    def __init__(self, samples: int, alpha: float) -> None:
        self.samples = samples
        self.alpha = alpha
        self.n = 0
        self.mean = 0.0
        self.dev = 0.0

    @property
    def learned(self) -> bool:
        return self.n >= self.samples

    def learn(self, x: float) -> None:
        """While learning, a running average over all samples; afterwards a slow EWMA."""
        self.n += 1
        gain = 1.0 / self.n if self.n <= self.samples else self.alpha
        if self.n == 1:
            self.mean = x
            return
        self.dev += (abs(x - self.mean) - self.dev) * gain
        self.mean += (x - self.mean) * gain

    def limit(self, factor: float, min_ms: float) -> float:
        return self.mean + max(factor * self.dev, min_ms)
