"""The vectorised paths give exactly what the per-packet code gives. PCR (pcr.ref_pcrs_at_once):
the same counters, error seconds, clock and PCR state, on real streams with errors injected
in the ways that touch PCRs (drops, PCR gaps, jumps, discontinuity flags), in any chunking."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_agent.video.ts import TsAnalyzer
from server_agent.video.ts.tables import _has_pts, payload_of, pts_flags
from tests.ts_synth import build

TS = 188
SYNTH = b"".join(build(1.0))


def analyse(data: bytes, chunk: int, fast: bool) -> TsAnalyzer:
    an = TsAnalyzer()
    an.fast_pcr = fast
    an.fast_pcr_min = 2  # take the vectorised path even for small chunks
    for i in range(0, len(data), chunk):
        an.feed(data[i:i + chunk])
    an.finish()
    return an


def same(data: bytes, chunk: int) -> TsAnalyzer:
    a, b = analyse(data, chunk, True), analyse(data, chunk, False)
    assert a.counts == b.counts
    assert a.error_seconds() == b.error_seconds()
    assert a.clock.anchor == b.clock.anchor and a.clock.spp == b.clock.spp
    assert {p: (t.prev, list(t.intervals)) for p, t in a.pcr.items()} == \
        {p: (t.prev, list(t.intervals)) for p, t in b.pcr.items()}
    assert a.t_last == b.t_last and np.array_equal(a.pid_packets, b.pid_packets)
    return a


def pcr_offsets(data: bytes | bytearray) -> list[int]:
    return [o for o in range(0, len(data) - TS + 1, TS)
            if data[o + 3] & 0x20 and data[o + 4] >= 7 and data[o + 5] & 0x10]


def mutate(data: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    buf = bytearray(data)
    pcrs = pcr_offsets(buf)
    for o in rng.sample(pcrs, min(6, len(pcrs))):
        what = rng.randrange(3)
        if what == 0:
            buf[o + 5] |= 0x80  # discontinuity indicator
        elif what == 1:
            buf[o + 7] ^= 1 << rng.randrange(8)  # PCR jump
        else:
            buf[o + 10] ^= 0x7F  # PCR extension (sub-us error)
    pkts = [buf[i:i + TS] for i in range(0, len(buf), TS)]
    for k in sorted(rng.sample(range(len(pkts)), 12), reverse=True):
        del pkts[k]  # dropped packets shift later PCRs (pcr_accuracy_error)
    if pcrs:
        start = pcrs[len(pcrs) // 2] // TS
        del pkts[start:start + 400]  # a PCR gap (repetition + discontinuity)
    return b"".join(pkts)


@pytest.mark.parametrize("chunk", [7 * TS, 1316 * 7, 100_000, 5 * 1024 * 1024])
def test_clean_real_stream_identical(clean_ts: bytes, chunk: int) -> None:
    an = same(clean_ts, chunk)
    assert set(an.counts.values()) == {0}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk", [7 * TS, 20_000, 1 << 20])
def test_injected_real_stream_identical(clean_ts: bytes, seed: int, chunk: int) -> None:
    an = same(mutate(clean_ts, seed), chunk)
    assert an.counts["pcr_accuracy_error"] > 0  # the injections reached the PCR checks


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(SYNTH) - 1), st.integers(0, 255)), max_size=30),
       st.integers(2_000, 60_000))
def test_mutated_synthetic_identical(edits: list[tuple[int, int]], chunk: int) -> None:
    data = bytearray(SYNTH)
    for pos, val in edits:
        data[pos] = val
    same(bytes(data), chunk)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=188, max_size=188), min_size=1, max_size=20),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 190), st.integers(0, 255)),
                max_size=20))
def test_pts_flags_match_the_per_packet_decision(pkts: list[bytes],
                                                 tweaks: list[tuple[int, int, int]]) -> None:
    """pts_flags (vectorised) == scrambled or _has_pts(payload_of(packet)), also for packets
    made to look like PES headers (00 00 01 at the payload start)."""
    bufs = [bytearray(p) for p in pkts]
    for k, (afc, af_len, sid) in enumerate(tweaks):
        b = bufs[k % len(bufs)]
        b[3] = (b[3] & 0xCF) | (afc << 4)
        b[4] = min(af_len, 255)
        start = 4 + (1 + b[4] if afc & 2 else 0)
        if start + 8 <= 188:
            b[start:start + 4] = bytes([0, 0, 1, sid])
    h = np.frombuffer(b"".join(bufs), np.uint8).reshape(-1, 188)
    want = [bool(b[3] & 0xC0) or _has_pts(payload_of(bytes(b))) for b in bufs]
    assert pts_flags(h).tolist() == want
