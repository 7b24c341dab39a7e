from __future__ import annotations

import math

import numpy as np
import pytest

from desktop.model import RingBuffer


def test_fills_then_wraps_oldest_first() -> None:
    rb = RingBuffer(3)
    assert len(rb) == 0 and rb.last_t is None and rb.first_t is None
    for x in (1.0, 2.0):
        rb.append(x, x * 10)
    t, v = rb.arrays()
    assert t.tolist() == [1.0, 2.0] and v.tolist() == [10.0, 20.0]
    for x in (3.0, 4.0, 5.0):
        rb.append(x, x * 10)
    t, v = rb.arrays()
    assert t.tolist() == [3.0, 4.0, 5.0] and v.tolist() == [30.0, 40.0, 50.0]
    assert rb.first_t == 3.0 and rb.last_t == 5.0 and rb.last_v == 50.0 and len(rb) == 3


def test_none_is_nan_and_old_samples_ignored() -> None:
    rb = RingBuffer(4)
    assert rb.append(1.0, None)
    assert rb.last_v is None
    assert not rb.append(1.0, 5.0)  # the live feed re-sends the latest after subscribe
    assert not rb.append(0.5, 5.0)
    t, v = rb.arrays()
    assert len(t) == 1 and math.isnan(v[0])


def test_arrays_are_copies() -> None:
    rb = RingBuffer(2)
    rb.append(1.0, 1.0)
    t, _ = rb.arrays()
    t[0] = 99
    assert rb.arrays()[0][0] == 1.0
    assert rb.arrays()[0].dtype == np.float64


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0)


@pytest.mark.parametrize("appended", [3, 5, 7, 12])  # not full, full, wrapped, wrapped twice
def test_tail_returns_the_newest_samples_from_t0(appended: int) -> None:
    rb = RingBuffer(5)
    for x in range(appended):
        rb.append(float(x), x * 10.0)
    t_all, _ = rb.arrays()
    for t0 in (-1.0, 0.0, appended - 3.0, appended - 2.5, appended - 1.0, appended + 1.0):
        for extra in (0, 1, 2):
            t, v = rb.tail(t0, extra=extra)
            want = int((t_all >= t0).sum()) + extra
            assert t.tolist() == t_all[len(t_all) - min(want, len(t_all)):].tolist()
            assert v.tolist() == (t * 10.0).tolist()
