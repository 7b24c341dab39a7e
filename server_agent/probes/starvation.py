"""The agent's own starvation: how late its event loop runs, so that probes are not blamed.

    LoopMonitor.run()      a ticker every TICK_S: woke - due = the loop's lag (time.time())
    LoopMonitor.observe()  any other late wake-up (the probe scheduler's late ticks) adds too
                            │ lag >= threshold: a starved span [due, woke]
    LoopMonitor.starved(t0, t1, slack)  seconds of [t0, t1] the agent was starved (the union
                                        of the spans, each begun ``slack`` earlier)

A probe's RTT is measured by the kernel (receive timestamps, TCP_INFO), so the agent's own
scheduling does not enter it. But a responder sharing the agent's loop (an in-process
simulator) answers only when the loop runs, and one sharing its host (the demo's simulator
process) stalls when the host starves the agent: such a reply is late by about the time the
agent was starved during the flight. A sample whose flight overlaps a starved span is
therefore *held*: never learned into a baseline, and judged only on the part of its RTT
that the starvation cannot explain. The blockage behind a late tick may have begun any time
after the previous tick ran, so for "was it starved at all" and for a responder on the
agent's own loop a span is taken to begin one tick early (``slack``); for any other
responder only the lateness actually seen counts. Spans older than ``keep_s`` are
forgotten; all times are wall-clock seconds (``time.time()``), the clock of the probe
results.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

TICK_S = 0.02
KEEP_S = 30.0


class LoopMonitor:
    def __init__(self, threshold_s: float, *, tick_s: float = TICK_S, keep_s: float = KEEP_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.threshold = threshold_s
        self.tick = tick_s
        self.keep = keep_s
        self.clock = clock
        self._spans: deque[tuple[float, float]] = deque()  # (due, woke): starved, in order
        self._next_due: float | None = None  # the ticker's next wake-up (None: not running)
        self._peak = 0.0  # the largest lag since the last take_peak()

    # --- feeding --------------------------------------------------------------------------

    def observe(self, due: float, woke: float) -> float:
        """A wake-up planned for ``due`` ran at ``woke``; returns the lag (>= 0)."""
        lag = max(0.0, woke - due)
        self._peak = max(self._peak, lag)
        if lag >= self.threshold:
            self._spans.append((due, woke))  # woke is the time of observation: in order
        self._forget(woke - self.keep)
        return lag

    def _forget(self, before: float) -> None:
        spans = self._spans
        while spans and spans[0][1] < before:
            spans.popleft()

    def take_peak(self) -> float:
        """The largest lag seen since the previous call (for the loop-lag gauge)."""
        now = self.clock()
        if self._next_due is not None:
            self._peak = max(self._peak, now - self._next_due)
        peak, self._peak = self._peak, 0.0
        return peak

    # --- asking ---------------------------------------------------------------------------

    def overdue(self, now: float | None = None) -> float:
        """How late the ticker is right now (it has not run yet): 0 when on time."""
        if self._next_due is None:
            return 0.0
        return max(0.0, (self.clock() if now is None else now) - self._next_due)

    def starved(self, t0: float, t1: float, slack: float = 0.0) -> float:
        """Seconds of ``[t0, t1]`` during which the agent was starved: the union of the
        starved spans (each begun ``slack`` early) clipped to it; 0 when not starved."""
        if t1 < t0:
            return 0.0
        now = self.clock()
        overdue = self.overdue(now) >= self.threshold
        spans = self._spans
        if not overdue and (not spans or spans[-1][1] < t0):
            return 0.0  # the usual answer, asked for every probe result: kept cheap
        cut: list[tuple[float, float]] = []
        if overdue and self._next_due is not None:
            cut.append((self._next_due, now))  # the ticker is overdue: not had its turn yet
        for due, woke in reversed(spans):
            if woke < t0:
                break
            cut.append((due, woke))
        total, reach = 0.0, t0
        clipped = ((max(t0, d - slack), min(t1, w)) for d, w in cut)
        for due, woke in sorted(c for c in clipped if c[0] < c[1]):
            if woke > reach:
                total += woke - max(due, reach)
                reach = woke
        return total

    # --- the ticker -----------------------------------------------------------------------

    async def run(self) -> None:
        """Tick until cancelled. Each tick is a plain callback on the loop (``call_at``),
        not a task's sleep: the ticker runs 50 times a second for the agent's whole life."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def schedule() -> None:
            nonlocal handle
            self._next_due = self.clock() + self.tick
            handle = loop.call_at(loop.time() + self.tick, tick)

        def tick() -> None:
            if self._next_due is not None:
                self.observe(self._next_due, self.clock())
            schedule()

        schedule()
        try:
            await loop.create_future()  # until cancelled
        finally:
            if handle is not None:
                handle.cancel()
            self._next_due = None
