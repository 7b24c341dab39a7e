"""ST 2022-7 two-leg analysis and merge (server_agent/video/udp/dual.py), with exact counts."""

from __future__ import annotations

import pytest

from server_agent.video.udp.dual import REORDER, DualPath

N = 400
DT = 0.001  # one datagram per ms


def run(drop1: set[int], drop2: set[int], *, delay2: float = 0.02, seq0: int = 0,
        buffer_s: float = 0.05, n: int = N) -> tuple[DualPath, list[bytes]]:
    """Both legs carry datagrams 0..n-1 (RTP seq = seq0 + i mod 2^16, payload = i); leg 2
    arrives ``delay2`` later; releases happen as time passes, then ``finish``."""
    dp = DualPath(buffer_s)
    events = sorted([(i * DT, 0, i) for i in range(n) if i not in drop1]
                    + [(i * DT + delay2, 1, i) for i in range(n) if i not in drop2])
    out: list[bytes] = []
    for t, leg, i in events:
        dp.add(leg, (seq0 + i) & 0xFFFF, t, i.to_bytes(2, "big"))
        out += dp.release(t)
    end = events[-1][0]
    out += dp.release(end + 1.0)
    dp.finish()
    return dp, out


def payloads(out: list[bytes]) -> list[int]:
    return [int.from_bytes(p, "big") for p in out]


def test_losses_on_one_leg_each_are_recovered_and_counted_per_leg() -> None:
    dp, out = run({5, 6, 200}, {10, 300, 301})
    assert (dp.lost_leg, dp.lost_both) == ([3, 3], 0)
    assert payloads(out) == list(range(N))  # every datagram once, in order
    assert dp.skew_ms == pytest.approx(20.0)
    assert dp.skew_max == pytest.approx(0.02)
    assert dp.hitless is True
    assert dp.skipped == 0
    d = dp.as_dict()
    assert (d["lost_leg1"], d["lost_leg2"], d["lost_both"], d["hitless"]) == (3, 3, 0, True)
    assert (d["skew_ms"], d["skew_ms_max"], d["buffer_ms"]) == (20.0, 20.0, 50.0)


def test_a_datagram_lost_on_both_legs_is_skipped_after_the_buffer_and_not_hitless() -> None:
    dp, out = run({50, 51}, {51, 52})
    assert (dp.lost_leg, dp.lost_both) == ([1, 1], 1)
    assert payloads(out) == [i for i in range(N) if i != 51]
    assert dp.skipped == 1
    assert dp.hitless is False
    assert dp.as_dict()["hitless"] is False


def test_sequence_numbers_wrap_without_false_loss() -> None:
    dp, out = run({3, 6}, {5, 7}, seq0=65530)  # seq 65535 -> 0 between i=5 and i=6
    assert (dp.lost_leg, dp.lost_both) == ([2, 2], 0)
    assert payloads(out) == list(range(N))
    assert dp.hitless is True


def test_skew_beyond_the_buffer_is_not_hitless_even_without_loss() -> None:
    dp, out = run(set(), set(), delay2=0.08, buffer_s=0.05)
    assert (dp.lost_leg, dp.lost_both) == ([0, 0], 0)
    assert dp.skew_ms == pytest.approx(80.0)
    assert dp.hitless is False
    assert payloads(out) == list(range(N))  # leg 1 alone delivers everything


def test_leg_2_ahead_gives_a_negative_skew_and_max_by_magnitude() -> None:
    dp, _ = run({100}, set(), delay2=-0.01)
    assert dp.skew_ms == pytest.approx(-10.0)
    assert dp.skew_max == pytest.approx(0.01)
    assert dp.lost_leg == [1, 0] and dp.hitless


def test_reordering_within_a_leg_is_not_loss() -> None:
    dp = DualPath(0.05)
    order = [0, 1, 3, 2, 4, 5]  # leg 1 swaps 2 and 3
    for k, i in enumerate(order):
        dp.add(0, i, k * DT, bytes([i]))
    for i in range(6):
        dp.add(1, i, i * DT + 0.001, bytes([i]))
    out = dp.release(1.0)
    dp.finish()
    assert [p[0] for p in out] == list(range(6))
    assert (dp.lost_leg, dp.lost_both) == ([0, 0], 0)


def test_judging_waits_for_the_reorder_margin_until_finish() -> None:
    dp = DualPath(0.05)
    for i in range(REORDER + 10):
        if i != 3:
            dp.add(0, i, i * DT, b"x")
    dp.release(1.0)
    assert dp.lost_both == 0  # leg 2 has sent nothing: nothing can be judged yet
    for i in range(REORDER + 10):
        dp.add(1, i, i * DT, b"x")
    dp.release(1.0)
    assert dp.lost_leg == [1, 0]  # seq 3, judged once both legs are REORDER past it
    dp.finish()
    assert dp.lost_leg == [1, 0] and dp.lost_both == 0
    assert dp.skew_ms == pytest.approx(0.0)


def test_nothing_received_on_one_leg_leaves_the_verdict_open() -> None:
    dp = DualPath(0.05)
    for i in range(10):
        dp.add(0, i, i * DT, b"x")
    dp.finish()
    assert (dp.lost_leg, dp.lost_both, dp.skew_ms) == ([0, 0], 0, None)
    assert dp.as_dict()["skew_ms"] is None


def test_several_datagrams_lost_on_both_legs_are_each_counted() -> None:
    dp, out = run({40, 41, 100, 250, 251, 252}, {41, 100, 250, 252, 300})
    assert dp.lost_both == 4  # 41, 100, 250, 252 (not 40, 251: the other leg had them)
    assert dp.lost_leg == [2, 1]  # 40, 251 on leg 1 alone; 300 on leg 2 alone
    assert payloads(out) == [i for i in range(N) if i not in {41, 100, 250, 252}]
    assert dp.skipped == 4
    assert dp.as_dict()["lost_both"] == 4
