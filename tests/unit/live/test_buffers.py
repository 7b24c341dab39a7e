from __future__ import annotations

from server_agent.live.buffers import FINE_WINDOW_S, SeriesBuffer


def test_fine_window_is_time_based() -> None:
    b = SeriesBuffer()
    for i in range(3000):  # 300 s at 10 Hz
        b.append(1000.0 + i / 10, float(i))
    assert b.fine[0][0] >= b.fine[-1][0] - FINE_WINDOW_S
    assert 1195 <= len(b.fine) <= 1201


def test_coarse_aggregates_min_mean_max_per_second_and_skip_none() -> None:
    b = SeriesBuffer()
    for i, v in enumerate([1.0, 5.0, None, 3.0]):
        b.append(2000.0 + i * 0.2, v)
    b.append(2001.0, 7.0)  # rolls the first second
    assert b.aggregates() == [(2000, 3.0)]
    assert b.aggregates("min") == [(2000, 1.0)]
    assert b.aggregates("max") == [(2000, 5.0)]


def test_window_uses_coarse_before_fine_horizon() -> None:
    b = SeriesBuffer()
    for i in range(600 * 10):  # 10 minutes at 10 Hz
        b.append(10_000.0 + i / 10, 1.0)
    pts = b.window(10_000.0, 10_600.0)
    fine_from = b.fine[0][0]
    coarse = [p for p in pts if p[0] < fine_from]
    assert coarse and all(t == int(t) for t, _ in coarse)  # 1 s points
    assert len([p for p in pts if p[0] >= fine_from]) == len(b.fine)


def test_extremes_since() -> None:
    b = SeriesBuffer()
    for i, v in enumerate([4.0, None, 9.0, 2.0]):
        b.append(100.0 + i, v)
    assert b.extremes_since(100.5) == (2.0, 9.0)
    assert b.extremes_since(200.0) == (None, None)


def test_an_hour_of_aggregates_is_kept_and_constant_minutes_shrink() -> None:
    b = SeriesBuffer()
    for i in range(2 * 3600):  # two hours at 1 Hz: up = 1 throughout, one dip
        b.append(50_000.0 + i, 0.0 if i == 7000 else 1.0)
    agg = b.aggregates()
    assert 3600 <= len(agg) <= 3660
    assert agg[-1][0] == 50_000 + 2 * 3600 - 2  # the open second is not aggregated yet
    assert (50_000 + 7000, 0.0) in agg
    sealed = list(b._chunks)[:-1]
    assert sum(isinstance(c.mean, float) for c in sealed) >= len(sealed) - 2


def test_counters_skip_aggregates_and_missing_values_stay_missing() -> None:
    b = SeriesBuffer(coarse=False)
    for i in range(10):
        b.append(100.0 + i, None if i == 3 else float(i))
    assert b.aggregates() == []
    assert b.fine[3] == (103.0, None)
    assert b.latest == (109.0, 9.0)
