"""Sustained's two timers restart when their condition is interrupted (hysteresis in time)."""

from __future__ import annotations

from server_agent.alarms.rules import Sustained


def test_an_interrupted_clear_condition_restarts_the_clear_timer() -> None:
    s = Sustained(raise_after_s=0.0, clear_after_s=5.0)
    assert s.update(0.0, bad=True, good=False) == "raise"
    assert s.update(1.0, bad=False, good=True) is None   # clearing starts at 1
    assert s.update(4.0, bad=False, good=True) is None
    assert s.update(4.5, bad=True, good=False) is None   # interrupted: back to zero
    assert s.update(5.0, bad=False, good=True) is None   # clearing starts again at 5
    assert s.update(9.0, bad=False, good=True) is None   # 4 s since 5: not yet (8 s since 1)
    assert s.update(10.0, bad=False, good=True) == "clear"
    assert not s.active


def test_an_interrupted_raise_condition_restarts_the_raise_timer() -> None:
    s = Sustained(raise_after_s=3.0, clear_after_s=0.0)
    assert s.update(0.0, bad=True, good=False) is None
    assert s.update(2.0, bad=True, good=False) is None
    assert s.update(2.5, bad=False, good=True) is None   # interrupted
    assert s.update(3.0, bad=True, good=False) is None   # raising starts again at 3
    assert s.update(5.0, bad=True, good=False) is None   # 5 s since 0 but only 2 since 3
    assert s.update(6.0, bad=True, good=False) == "raise"


def test_the_dead_band_neither_raises_nor_clears() -> None:
    s = Sustained(raise_after_s=1.0, clear_after_s=1.0)
    for t in range(10):  # neither bad nor good: in between the two thresholds
        assert s.update(float(t), bad=False, good=False) is None
    assert not s.active
