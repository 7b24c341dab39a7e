"""ST 2022-7 edges the path tests left open (found alive by `make mutants`): the default
buffer, the buffer's exact boundary, the last sequence number judged at finish, a reordered
last datagram, and the figures as the API reports them."""

from __future__ import annotations

from server_agent.video.udp.dual import DualPath


def test_the_default_buffer_is_50_ms() -> None:
    assert DualPath().as_dict()["buffer_ms"] == 50.0


def test_a_gap_is_skipped_once_the_next_datagram_waited_exactly_the_buffer() -> None:
    dp = DualPath(0.5)
    dp.add(0, 0, 0.0, b"a")
    assert dp.release(0.0) == [b"a"]
    dp.add(0, 2, 1.0, b"c")  # 1 is missing on both legs
    assert dp.release(1.25) == []  # still within the buffer: waits for 1
    assert dp.release(1.5) == [b"c"]  # waited 0.5 s, the whole buffer: 1 is skipped
    assert dp.skipped == 1


def test_finish_judges_up_to_the_last_sequence_number() -> None:
    dp = DualPath(0.05)
    for seq in range(5):
        dp.add(0, seq, seq * 0.001, b"x")
        if seq != 4:  # the last one only on leg 1
            dp.add(1, seq, seq * 0.001 + 0.01, b"x")
    dp.add(1, 5, 0.02, b"x")
    dp.add(0, 5, 0.005, b"x")
    dp.finish()
    assert (dp.lost_leg, dp.lost_both) == ([0, 1], 0)


def test_a_late_datagram_does_not_pull_a_legs_progress_back() -> None:
    """Leg 1's 10 arrives after its 11: leg 1 has still reached 11, so at finish 11 is
    judged too, and its skew (leg 2 100 ms late) is in the figures."""
    dp = DualPath(0.5)
    for seq in range(10):
        dp.add(0, seq, seq * 0.001, b"x")
        dp.add(1, seq, seq * 0.001 + 0.010, b"x")
    dp.add(1, 10, 0.020, b"x")
    dp.add(0, 11, 0.011, b"x")
    dp.add(0, 10, 0.012, b"x")  # reordered on leg 1
    dp.add(1, 11, 0.111, b"x")
    dp.finish()
    assert dp.skew_n == 12  # 0..11 all on both legs
    assert dp.as_dict()["skew_ms_max"] == 100.0


def test_the_reported_figures_are_in_ms_to_the_microsecond_and_per_leg() -> None:
    dp = DualPath(0.05)
    arrivals = {0: (0.0, 0.0201234), 1: (0.001, None), 2: (None, 0.0221234),
                3: (None, 0.0231234), 4: (0.004, 0.0241234)}
    for seq, (t1, t2) in arrivals.items():
        if t1 is not None:
            dp.add(0, seq, t1, b"x")
        if t2 is not None:
            dp.add(1, seq, t2, b"x")
    dp.finish()
    d = dp.as_dict()
    assert (d["lost_leg1"], d["lost_leg2"], d["lost_both"]) == (2, 1, 0)
    assert d["skew_ms"] == 20.123  # mean of 20.1234 and 20.1234 ms, to the microsecond
    assert d["skew_ms_max"] == 20.123
