"""The latency advisor (a pure function): the 4x RTT rule and drops that more latency saves."""

from __future__ import annotations

import pytest

from server_agent.video.srt.advisor import advise


def test_nothing_known_no_advice() -> None:
    assert advise(None, 20.0, 1000, 0, 0) is None
    assert advise(120, None, 1000, 0, 0) is None


def test_latency_well_above_4x_rtt_is_fine() -> None:
    assert advise(200, 20.0, 10_000, 5, 0) is None


def test_latency_below_4x_rtt_suggests_4x_rounded_up() -> None:
    msg = advise(120, 45.0, 10_000, 0, 0)
    assert msg is not None
    assert "below 4x the RTT (45.0 ms)" in msg and "about 180 ms" in msg


def test_exactly_4x_rtt_is_fine() -> None:
    assert advise(160, 40.0, 10_000, 0, 0) is None


def test_drops_at_recoverable_loss_suggest_more_latency() -> None:
    # 1 % loss, RTT 20 ms: p^k < 1e-6 needs k = 3 rounds -> (3 + 1) x 20 = 80 ms, but at
    # least 1.5 x the current 120 ms -> 180 ms
    msg = advise(120, 20.0, 9_900, 100, 7)
    assert msg is not None
    assert "7 packets dropped while the loss (1.0%) is recoverable" in msg
    assert "from 120 ms to about 180 ms" in msg


def test_drops_with_long_rtt_suggest_rounds_times_rtt() -> None:
    # 10 % loss: k = 6 rounds -> 7 x 100 ms = 700 ms (above 4 x RTT = 400 and 1.5 x 200)
    msg = advise(200, 100.0, 9_000, 1_000, 3)
    assert msg is not None and "about 700 ms" in msg


def test_drops_at_heavy_loss_say_fix_the_link() -> None:
    msg = advise(500, 20.0, 600, 400, 50)
    assert msg is not None and "more latency will not recover" in msg and "40%" in msg


@pytest.mark.parametrize("rtt", [0.05, 1.0])
def test_loopback_rtt_is_floored(rtt: float) -> None:
    # sub-millisecond RTTs: the floor (5 ms) keeps suggestions sensible
    msg = advise(10, rtt, 1000, 10, 1)
    assert msg is not None and "about 20 ms" in msg
