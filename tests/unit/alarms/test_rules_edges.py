"""The alarm rules' edges (found alive by `make mutants`): a restored active alarm, held
samples before any update, two held samples restarting a raise, a streak's counts from a
restored state, and the baseline's running average up to its last learning sample."""

from __future__ import annotations

import pytest

from server_agent.alarms.rules import Baseline, Streak, Sustained


def test_a_restored_active_alarm_clears_after_its_clear_time() -> None:
    s = Sustained(raise_after_s=5, clear_after_s=10, active=True)
    assert s.update(0.0, bad=False, good=True) is None
    assert s.update(10.0, bad=False, good=True) == "clear"
    assert s.active is False


def test_held_samples_before_any_update_change_nothing() -> None:
    s = Sustained(raise_after_s=5, clear_after_s=10)
    s.hold()
    s.hold()
    assert s.update(0.0, bad=True, good=False) is None
    assert s.update(5.0, bad=True, good=False) == "raise"


def test_one_held_sample_is_bridged_two_in_a_row_restart_the_raise() -> None:
    s = Sustained(raise_after_s=5, clear_after_s=10)
    assert s.update(0.0, bad=True, good=False) is None
    s.hold()  # one gap: the wait goes on
    assert s.update(5.0, bad=True, good=False) == "raise"

    s = Sustained(raise_after_s=5, clear_after_s=10)
    assert s.update(0.0, bad=True, good=False) is None
    s.hold()
    s.hold()  # two in a row: the condition was not seen all along
    assert s.update(5.0, bad=True, good=False) is None  # its wait starts again here
    assert s.update(10.0, bad=True, good=False) == "raise"


def test_a_restored_streak_clears_after_exactly_its_good_count() -> None:
    st = Streak(raise_after=3, clear_after=2, active=True)
    assert st.update(True) is None
    assert st.update(True) == "clear"
    assert st.active is False
    assert [st.update(False) for _ in range(3)] == [None, None, "raise"]


def test_the_baseline_averages_every_learning_sample_then_follows_slowly() -> None:
    b = Baseline(samples=3, alpha=0.1)
    assert b.limit(3.0, 1.0) == 1.0  # nothing learned: mean 0, the floor
    for x in (10.0, 20.0, 30.0):
        b.learn(x)
    assert b.learned
    assert b.mean == pytest.approx(20.0)  # the plain average of the three
    # deviation: |20-10| at gain 1/2 -> 5, then |30-15| at gain 1/3 -> 5 + (15-5)/3
    assert b.dev == pytest.approx(5.0 + 10.0 / 3)
    b.learn(120.0)  # learned: a slow EWMA now
    assert b.mean == pytest.approx(20.0 + 0.1 * 100.0)


def test_the_last_learning_sample_still_counts_in_full() -> None:
    b = Baseline(samples=2, alpha=0.1)
    b.learn(10.0)
    b.learn(20.0)  # the second of two: gain 1/2, not alpha
    assert b.mean == pytest.approx(15.0)
