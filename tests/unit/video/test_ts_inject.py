"""TR 101 290 counts on real ffmpeg MPEG-TS with errors injected into the raw packets.

Every test asserts the *whole* counter set (what is not named must be 0), and analyses the
bytes in three chunkings (one piece, live-sized 7-packet datagrams, odd sizes) that must agree.
"""

from __future__ import annotations

import pytest

from server_agent.video.ts import COUNTERS, TsAnalyzer
from tests.ts_media import NULL, Pkt, join, pcr_gaps_over, pcr_index, renumber, split, time_of

VIDEO, AUDIO, PAT, PMT = 0x100, 0x101, 0x0000, 0x1000


def analyse(data: bytes, sizes: tuple[int, ...] = (1 << 30, 7 * 188)) -> dict[str, int]:
    results = []
    for size in sizes:
        an = TsAnalyzer()
        for i in range(0, len(data), size):
            an.feed(data[i:i + size])
        an.finish()
        results.append(an.counts)
    assert all(r == results[0] for r in results)
    return results[0]


def expect(**nonzero: int) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    out.update(nonzero)
    return out


def plain_video(pkts: list[Pkt], after_s: float, count: int, spacing: int = 300) -> list[int]:
    """Indexes of video packets with payload and no PCR, one per PCR interval, after after_s."""
    out: list[int] = []
    i = next(i for i in range(len(pkts)) if time_of(pkts, i) - time_of(pkts, 0) > after_s)
    while len(out) < count:
        p = pkts[i]
        if p.pid == VIDEO and p.payload and p.pcr is None and not p.pusi:
            out.append(i)
            i += spacing
        i += 1
    return out


def test_clean_stream_counts_nothing(clean_ts: bytes) -> None:
    assert analyse(clean_ts) == expect()


def test_dropped_payload_packets_one_cc_error_each_and_pcr_accuracy(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    drop = plain_video(pkts, 1.0, 5)
    kept = [p for i, p in enumerate(pkts) if i not in set(drop)]
    # CBR: each drop moves the next PCR by one packet time (~750 us at 2 Mb/s) -> accuracy
    assert analyse(join(kept)) == expect(continuity_count_error=5, pcr_accuracy_error=5)


def test_dropped_payloadless_pcr_packets_no_cc_error(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    start = time_of(pkts, 0)
    pcr_only = [i for i, p in enumerate(pkts) if not p.payload and p.pid == VIDEO
                and time_of(pkts, i) - start > 1.0][:12:4]
    assert len(pcr_only) == 3
    kept = [p for i, p in enumerate(pkts) if i not in set(pcr_only)]
    rep = pcr_gaps_over(kept, 0.040)  # two ~20 ms intervals merge: may exceed 40 ms
    assert analyse(join(kept)) == expect(pcr_accuracy_error=3, pcr_repetition_error=rep)


def test_duplicate_once_is_legal_twice_is_an_error(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    once, twice = plain_video(pkts, 1.0, 2, spacing=2000)
    out: list[Pkt] = []
    for i, p in enumerate(pkts):
        out.append(p)
        if i == once:
            out.append(Pkt(bytearray(p.raw)))
        if i == twice:
            out += [Pkt(bytearray(p.raw)), Pkt(bytearray(p.raw))]
    # an inserted packet shifts the next PCR in a CBR stream, once per insertion point
    assert analyse(join(out)) == expect(continuity_count_error=1, pcr_accuracy_error=2)


def test_tei_flags(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    for i in range(100, len(pkts), 700):
        pkts[i].raw[1] |= 0x80
    n = len(range(100, len(pkts), 700))
    assert analyse(join(pkts)) == expect(transport_error=n)


def test_isolated_corrupted_sync_bytes(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    for i in (500, 1500, 2500):
        pkts[i].raw[0] = 0x46
    assert analyse(join(pkts)) == expect(sync_byte_error=3)


def test_two_corrupted_sync_bytes_in_a_row_lose_sync(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    i = plain_video(pkts, 1.0, 1)[0]
    while not (pkts[i + 1].pid == VIDEO and pkts[i + 1].payload and pkts[i + 1].pcr is None):
        i = plain_video(pkts, time_of(pkts, i) - time_of(pkts, 0) + 0.01, 1)[0]
    pkts[i].raw[0] = pkts[i + 1].raw[0] = 0x00
    # the two packets are lost with the sync: one CC gap on the video PID, one PCR shift
    assert analyse(join(pkts)) == expect(sync_byte_error=2, ts_sync_loss=1,
                                         continuity_count_error=1, pcr_accuracy_error=1)


@pytest.mark.parametrize("pid", [PAT, PMT])
def test_corrupted_crc(clean_ts: bytes, pid: int) -> None:
    pkts = split(clean_ts)
    hits = [i for i, p in enumerate(pkts) if p.pid == pid][5::10]
    for i in hits:
        raw = pkts[i].raw
        sec_len = ((raw[6] & 0x0F) << 8) | raw[7]
        raw[5 + 3 + sec_len - 1] ^= 0x01  # last CRC byte (pointer_field 0)
    assert analyse(join(pkts)) == expect(crc_error=len(hits))


@pytest.mark.parametrize("pid, name", [(PAT, "pat_error"), (PMT, "pmt_error")])
@pytest.mark.parametrize("removed", [6, 13])
def test_table_gaps(clean_ts: bytes, pid: int, name: str, removed: int) -> None:
    pkts = split(clean_ts)
    idx = [i for i, p in enumerate(pkts) if p.pid == pid]
    gone = idx[10:10 + removed]
    gap = time_of(pkts, idx[10 + removed]) - time_of(pkts, idx[9])
    for i in gone:
        pkts[i] = Pkt(bytearray(NULL))  # keeps CBR byte positions
    renumber(pkts, pid)
    assert analyse(join(pkts)) == expect(**{name: int(gap // 0.5)})
    assert int(gap // 0.5) == (1 if removed == 6 else 2)


@pytest.mark.parametrize("removed", [2, 5])
def test_pcr_gaps(clean_ts: bytes, removed: int) -> None:
    pkts = split(clean_ts)
    idx = pcr_index(pkts)
    for i, _ in idx[60:60 + removed]:
        pkts[i].clear_pcr()
    gap = (idx[60 + removed][1] - idx[59][1]) / 27e6
    rep = pcr_gaps_over(pkts, 0.040)
    assert rep == 1 and (gap > 0.1) == (removed == 5)
    assert analyse(join(pkts)) == expect(pcr_repetition_error=1,
                                         pcr_discontinuity_indicator_error=int(gap > 0.1))


def test_missing_audio_pid_gives_pid_and_pts_errors(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    idx = [i for i, p in enumerate(pkts) if p.pid == AUDIO]
    t0 = time_of(pkts, 0)
    first = next(k for k, i in enumerate(idx) if time_of(pkts, i) - t0 > 1.0)
    last = next(k for k, i in enumerate(idx) if time_of(pkts, i) - t0 > 2.5)
    for i in idx[first:last]:
        pkts[i] = Pkt(bytearray(NULL))
    renumber(pkts, AUDIO)
    gap = time_of(pkts, idx[last]) - time_of(pkts, idx[first - 1])
    pes = [i for i in idx if pkts[i].pusi]
    pts_gap = time_of(pkts, next(i for i in pes if i >= idx[last])) - time_of(
        pkts, max(i for i in pes if i < idx[first]))
    assert analyse(join(pkts)) == expect(pid_error=int(gap // 1.0),
                                         pts_error=int(pts_gap // 0.7))


def test_chunking_does_not_matter_with_errors(clean_ts: bytes) -> None:
    pkts = split(clean_ts)
    for i in (700, 1400):
        pkts[i].raw[0] = 0
    pkts[2000].raw[1] |= 0x80
    data = join(pkts)
    counts = analyse(data, (1 << 30, 7 * 188, 1000, 4096 * 3 + 5))
    assert counts["sync_byte_error"] == 2 and counts["transport_error"] == 1
