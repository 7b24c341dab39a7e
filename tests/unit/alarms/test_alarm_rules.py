from __future__ import annotations

import pytest

from server_agent.alarms.rules import Baseline, Streak, Sustained


def test_sustained_needs_the_condition_to_hold() -> None:
    h = Sustained(raise_after_s=3, clear_after_s=5)
    assert h.update(0, bad=True, good=False) is None
    assert h.update(2, bad=False, good=False) is None  # interrupted: timer restarts
    assert h.update(3, bad=True, good=False) is None
    assert h.update(5.9, bad=True, good=False) is None
    assert h.update(6, bad=True, good=False) == "raise"
    assert h.update(7, bad=False, good=False) is None  # dead band keeps it raised
    assert h.update(8, bad=False, good=True) is None
    assert h.update(12.9, bad=False, good=True) is None
    assert h.update(13, bad=False, good=True) == "clear"
    assert not h.active


def test_streak_counts_in_a_row() -> None:
    s = Streak(raise_after=3, clear_after=2)
    assert [s.update(ok) for ok in (False, False, True, False, False, False)] == [
        None, None, None, None, None, "raise"]
    assert [s.update(ok) for ok in (True, False, True, True)] == [None, None, None, "clear"]


def test_baseline_learns_mean_and_deviation_then_adapts_slowly() -> None:
    b = Baseline(samples=4, alpha=0.1)
    for x in (10.0, 12.0, 10.0, 12.0):
        assert not b.learned
        b.learn(x)
    assert b.learned
    assert b.mean == pytest.approx(11.0, abs=0.6)
    assert 0.5 < b.dev < 2.0
    before = b.mean
    b.learn(100.0)
    assert b.mean == pytest.approx(before + 0.1 * (100 - before))
    assert b.limit(4, 5) == b.mean + max(4 * b.dev, 5)
