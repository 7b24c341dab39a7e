"""A hand-built MPEG-TS (exact control): PSI sections spanning packets, CRC-32/MPEG-2."""

from __future__ import annotations

import zlib

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
