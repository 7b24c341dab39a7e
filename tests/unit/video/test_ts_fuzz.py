"""The analyser never raises, whatever it is fed, and its counters stay consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_agent.video.ts import COUNTERS, TsAnalyzer
from tests.ts_synth import build

CLEAN = b"".join(build(0.5))


def check(an: TsAnalyzer) -> None:
    assert set(an.counts) == set(COUNTERS)
    assert all(v >= 0 for v in an.counts.values())
    assert int(an.pid_packets.sum()) == an.packets
    assert an.packets * 188 + an.framer.skipped_bytes <= an.framer.bytes_in
    for es, ses in an.error_seconds().values():
        assert 0 <= ses <= es


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=3000), max_size=8))
def test_random_bytes(chunks: list[bytes]) -> None:
    an = TsAnalyzer()
    for c in chunks:
        an.feed(c)
    an.finish()
    check(an)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(CLEAN) - 1), st.integers(0, 255)), max_size=60),
       st.integers(100, 10000), st.integers(0, 400))
def test_mutated_packets(edits: list[tuple[int, int]], chunk: int, cut: int) -> None:
    data = bytearray(CLEAN)
    for pos, val in edits:
        data[pos] = val
    data = data[cut:]
    an = TsAnalyzer()
    for i in range(0, len(data), chunk):
        an.feed(bytes(data[i:i + chunk]))
    an.finish()
    check(an)
