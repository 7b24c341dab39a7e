from __future__ import annotations

import math

import numpy as np

from desktop.model.envelope import envelope, segments


def test_peaks_survive_as_min_max_per_column() -> None:
    t = np.arange(100) / 10.0  # 10 Hz for 10 s
    v = np.ones(100)
    v[37] = 9.0  # one-sample spike
    v[61] = -4.0  # and a dip
    env = envelope(t, v, dt=1.0, max_gap_s=5.0)
    assert env.col.tolist() == list(range(10))
    assert env.hi[3] == 9.0 and env.lo[6] == -4.0
    assert env.hi.max() == 9.0 and env.lo.min() == -4.0
    assert env.joined.tolist() == [False] + [True] * 9
    assert env.first[4] == v[40] and env.last[3] == v[39]


def test_nan_and_long_gaps_break_the_line() -> None:
    t = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0])
    v = np.array([1.0, 2.0, math.nan, 3.0, 4.0, 5.0])
    env = envelope(t, v, dt=1.0, max_gap_s=5.0)
    assert env.col.tolist() == [0, 1, 3, 10, 11]  # the NaN column is empty
    assert env.joined.tolist() == [False, True, False, False, True]


def test_groups_are_separate_curves() -> None:
    t = np.array([0.0, 1.0, 0.0, 1.0])
    v = np.array([1.0, 2.0, 5.0, 6.0])
    env = envelope(t, v, dt=1.0, max_gap_s=5.0, group=np.array([0, 0, 1, 1]))
    assert env.group.tolist() == [0, 0, 1, 1]
    assert env.joined.tolist() == [False, True, False, True]  # no join across curves
    rows, counts = segments(env, first_col=0, top=10.0, height=100)
    assert counts.tolist() == [3, 3]  # two spans and one join each
    # curve 1: spans at x 0.5 and 1.5, the join from (0.5, v=5) to (1.5, v=6)
    assert rows[3:].tolist() == [[0.5, 50.0, 0.5, 49.0], [1.5, 40.0, 1.5, 39.0],
                                 [0.5, 50.0, 1.5, 40.0]]


def test_segments_map_values_to_rows_top_down() -> None:
    env = envelope(np.array([0.0, 0.5]), np.array([2.0, 8.0]), dt=1.0, max_gap_s=5.0)
    rows, counts = segments(env, first_col=0, top=10.0, height=100)
    assert counts.tolist() == [1]
    assert rows.tolist() == [[0.5, 80.0, 0.5, 20.0]]  # one span from v=2 up to v=8
