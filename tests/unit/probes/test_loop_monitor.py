"""LoopMonitor: the agent's own starvation, measured from late wake-ups (fake clock at the
edge, plus one real blocked loop)."""

from __future__ import annotations

import asyncio
import time

import pytest

from server_agent.probes.starvation import LoopMonitor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_late_wake_up_marks_a_starved_span_an_on_time_one_does_not() -> None:
    clock = Clock()
    mon = LoopMonitor(0.005, tick_s=0.02, clock=clock)
    assert mon.observe(1000.0, 1000.001) == pytest.approx(0.001)  # 1 ms: normal slack
    assert mon.starved(999.0, 1001.0, slack=0.02) == 0.0
    clock.now = 1000.5
    assert mon.observe(1000.4, 1000.5) == pytest.approx(0.1)  # 100 ms late: starved
    assert mon.starved(1000.45, 1000.46) == pytest.approx(0.01)  # inside: all of it
    assert mon.starved(1000.30, 1000.42) == pytest.approx(0.02)  # overlaps its start
    assert mon.starved(1000.30, 1000.42, slack=0.02) == pytest.approx(0.04)  # begun a tick early
    assert mon.starved(1000.50, 1000.60) == 0.0  # after it
    assert mon.starved(1000.0, 1000.39) == 0.0  # before it
    assert mon.starved(1000.0, 1000.39, slack=0.02) == pytest.approx(0.01)


def test_overlapping_spans_are_not_counted_twice() -> None:
    """The ticker and the probe scheduler see the same blockage: one starvation."""
    clock = Clock()
    mon = LoopMonitor(0.005, tick_s=0.02, clock=clock)
    mon.observe(1000.10, 1000.20)
    mon.observe(1000.15, 1000.25)
    clock.now = 1000.3
    assert mon.starved(1000.0, 1001.0) == pytest.approx(0.15)


def test_a_fault_under_lasting_starvation_is_not_all_explained_away() -> None:
    """Ticks 6 ms late again and again: a 52 ms flight owes the agent only the lateness
    actually seen in it, not the whole flight (else no fault could raise on a busy host)."""
    clock = Clock()
    mon = LoopMonitor(0.005, tick_s=0.02, clock=clock)
    t = 1000.0
    for _ in range(40):
        mon.observe(t + 0.02, t + 0.026)
        t += 0.026
    clock.now = t
    explained = mon.starved(t - 0.52, t - 0.468)
    assert explained == pytest.approx(0.012)
    assert mon.starved(t - 0.52, t - 0.468, slack=0.02) == pytest.approx(0.052)  # held


def test_a_ticker_that_is_overdue_now_counts_before_it_runs() -> None:
    """A probe result handled in the same loop iteration that ends a blockage, before the
    ticker had its turn, must still see the starvation."""
    clock = Clock()
    mon = LoopMonitor(0.005, tick_s=0.02, clock=clock)
    mon._next_due = 1000.02  # what run() sets before it sleeps
    clock.now = 1000.30
    assert mon.overdue() == pytest.approx(0.28)
    assert mon.starved(1000.10, 1000.25) == pytest.approx(0.15)
    clock.now = 1000.021  # on time: nothing
    assert mon.starved(1000.0, 1000.021, slack=0.02) == 0.0


def test_old_spans_are_forgotten_and_the_peak_is_taken_once() -> None:
    clock = Clock()
    mon = LoopMonitor(0.005, tick_s=0.02, keep_s=30.0, clock=clock)
    mon.observe(1000.0, 1000.2)
    assert mon.take_peak() == pytest.approx(0.2)
    assert mon.take_peak() == 0.0
    mon.observe(1040.0, 1040.001)
    assert mon.starved(999.0, 1001.0) == 0.0


async def test_a_blocked_event_loop_is_seen_by_the_ticker() -> None:
    mon = LoopMonitor(0.005)
    task = asyncio.create_task(mon.run())
    await asyncio.sleep(0.05)  # the ticker runs on time
    t0 = time.time()
    time.sleep(0.15)  # noqa: ASYNC251 - on purpose: the agent's loop starved
    t1 = time.time()
    await asyncio.sleep(0.05)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert mon.starved(t0, t1) >= 0.1
    assert mon.take_peak() >= 0.1
