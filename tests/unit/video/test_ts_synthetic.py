"""A hand-built MPEG-TS (exact control): PSI sections spanning packets, CRC-32/MPEG-2."""

from __future__ import annotations

import zlib

import pytest

from server_agent.video.ts import COUNTERS, TsAnalyzer
from server_agent.video.ts.crc import crc32_mpeg2
from tests.ts_synth import build


def test_crc_is_mpeg2_not_zlib() -> None:
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # CRC-32/MPEG-2 check value
    assert crc32_mpeg2(b"123456789") != zlib.crc32(b"123456789")


def run(pkts: list[bytearray]) -> TsAnalyzer:
    an = TsAnalyzer()
    data = b"".join(pkts)
    for i in range(0, len(data), 7 * 188):
        an.feed(data[i:i + 7 * 188])
    an.finish()
    return an


def zero_but(**nonzero: int) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    out.update(nonzero)
    return out


def test_multi_packet_pmt_is_reassembled() -> None:
    an = run(build())
    assert an.counts == zero_but()
    progs = an.tables.programs
    assert progs[1].streams == {0x100: 0x1B} and progs[1].pcr_pid == 0x100


def test_corrupt_byte_in_second_packet_of_pmt_is_one_crc_error() -> None:
    pkts = build()
    pmt = [i for i, p in enumerate(pkts) if ((p[1] & 0x1F) << 8 | p[2]) == 0x1000]
    pkts[pmt[7]][100] ^= 0xFF  # the 2nd packet of the 3rd PMT section
    assert run(pkts).counts == zero_but(crc_error=1)


def test_lost_middle_packet_of_pmt_discards_the_section() -> None:
    pkts = build()
    pmt = [i for i, p in enumerate(pkts) if ((p[1] & 0x1F) << 8 | p[2]) == 0x1000]
    del pkts[pmt[7]]
    # CC gap on the PMT PID; the CBR PCR after it is one packet early; no CRC error
    assert run(pkts).counts == zero_but(continuity_count_error=1, pcr_accuracy_error=1)


def _video_payload_packets(pkts: list[bytearray]) -> list[int]:
    return [i for i, p in enumerate(pkts)
            if ((p[1] & 0x1F) << 8 | p[2]) == 0x100 and p[3] & 0x10 and not p[3] & 0x20]


def _jump_cc(pkt: bytearray, by: int, *, discontinuity: bool | None) -> None:
    """Advance the packet's CC by ``by``; with ``discontinuity`` not None, give it an
    adaptation field whose discontinuity_indicator is that value (payload shortened)."""
    pkt[3] = (pkt[3] & 0xF0) | ((pkt[3] + by) & 0x0F)
    if discontinuity is not None:
        pkt[3] |= 0x20
        pkt[4:6] = bytes([1, 0x80 if discontinuity else 0x00])


def _renumber_after(pkts: list[bytearray], at: int) -> None:
    """Later packets of the PID continue from the jumped CC (a real splice, not a loss)."""
    cc = pkts[at][3] & 0x0F
    for i in _video_payload_packets(pkts):
        if i > at:
            cc = (cc + 1) & 0x0F
            pkts[i][3] = (pkts[i][3] & 0xF0) | cc
    for i, p in enumerate(pkts):  # PCR-only packets repeat the last CC: keep them in step
        if i > at and ((p[1] & 0x1F) << 8 | p[2]) == 0x100 and not p[3] & 0x10:
            prev = max(j for j in _video_payload_packets(pkts) if j < i)
            p[3] = (p[3] & 0xF0) | (pkts[prev][3] & 0x0F)


def test_a_cc_jump_flagged_as_discontinuity_is_no_error() -> None:
    pkts = build()
    at = _video_payload_packets(pkts)[500]
    _jump_cc(pkts[at], 5, discontinuity=True)
    _renumber_after(pkts, at)
    assert run(pkts).counts == zero_but()


@pytest.mark.parametrize("af", [None, False])
def test_the_same_jump_without_the_indicator_is_one_cc_error(af: bool | None) -> None:
    pkts = build()
    at = _video_payload_packets(pkts)[500]
    _jump_cc(pkts[at], 5, discontinuity=af)
    _renumber_after(pkts, at)
    assert run(pkts).counts["continuity_count_error"] == 1
