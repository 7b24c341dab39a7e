"""The replayer's loop point: continuity counters, PCR and PTS carry on seamlessly."""

from __future__ import annotations

import itertools

from server_agent.sim.ts import (
    NULL_PID,
    TS,
    Clip,
    Replayer,
    TsErrorInjector,
    cc_of,
    clip_span,
    has_payload,
    pcr_of,
    pes_timestamps,
    pid_of,
)

MUX = 2_000_000  # bit/s
TICKS_PER_BYTE = 27_000_000 * 8 / MUX


def packet(pid: int, cc: int, *, payload: bool = True, pcr: int | None = None,
           pts: int | None = None) -> bytes:
    afc = (0x10 if payload else 0) | (0x20 if pcr is not None or not payload else 0)
    head = bytes((0x47, (0x40 if pts is not None else 0) | (pid >> 8), pid & 0xFF, afc | cc))
    body = b""
    if afc & 0x20:
        if pcr is not None:
            base, ext = divmod(pcr, 300)
            af = bytes((0x10, base >> 25 & 0xFF, base >> 17 & 0xFF, base >> 9 & 0xFF,
                        base >> 1 & 0xFF, (base & 1) << 7 | 0x7E | ext >> 8, ext & 0xFF))
        else:
            af = b"\x00"
        body += bytes((len(af),)) + af
    if payload and pts is not None:
        v = pts
        body += b"\x00\x00\x01\xe0\x00\x00\x80\x80\x05" + bytes((
            0x21 | (v >> 29 & 0x0E), v >> 22 & 0xFF, (v >> 14 & 0xFE) | 1, v >> 7 & 0xFF,
            (v << 1 & 0xFE) | 1))
    return head + body + b"\xff" * (TS - len(head) - len(body))


def synthetic_clip(n: int = 150) -> bytes:
    """A CBR-like TS: PAT, video PID 256 with PCR every 10th and PES+PTS every 5th packet,
    an adaptation-only PID 258, null packets; CCs continuous within the clip."""
    cc: dict[int, int] = {}
    out = b""
    for i in range(n):
        pos = i * TS
        if i % 25 == 0:
            pid, kw = 0, {}
        elif i % 13 == 0:
            out += packet(NULL_PID, 0)
            continue
        elif i % 17 == 0:
            out += packet(258, cc.get(258, 7), payload=False)
            continue
        else:
            pid = 256
            kw = {}
            if i % 10 == 1:
                kw["pcr"] = 1_000_000 + int(pos * TICKS_PER_BYTE)
            if i % 5 == 1:
                kw["pts"] = 90_000 + int(pos * TICKS_PER_BYTE / 300)
        cc[pid] = (cc.get(pid, 3) + 1) & 15
        out += packet(pid, cc[pid], **kw)  # type: ignore[arg-type]
    return out


def replay(clip: Clip, datagrams: int, inj: TsErrorInjector | None = None) -> bytes:
    r = Replayer(clip)
    out = bytearray()
    for _ in range(datagrams):
        d = r.next_datagram()
        out += inj.apply(d, 0.01) if inj else d
    return bytes(out)


def cc_errors(stream: bytes) -> int:
    last: dict[int, int] = {}
    errors = 0
    for off in range(0, len(stream), TS):
        pid = pid_of(stream, off)
        if pid == NULL_PID:
            continue
        cc = cc_of(stream, off)
        if pid in last:
            want = (last[pid] + 1) & 15 if has_payload(stream, off) else last[pid]
            errors += cc != want
        last[pid] = cc
    return errors


def test_span_from_pcr_by_byte_position() -> None:
    data = synthetic_clip()
    assert abs(clip_span(data) - len(data) * TICKS_PER_BYTE) <= 1


def test_loop_point_keeps_continuity_pcr_and_pts() -> None:
    data = synthetic_clip()
    clip = Clip(data, clip_span(data))
    assert cc_errors(data + data) > 0  # a naive loop would jump
    out = replay(clip, 3 * clip.packets // 7 + 5)  # > 3 passes
    assert len(out) > 3 * len(data)
    assert cc_errors(out) == 0
    pcrs = [(off, pcr_of(out, off)) for off in range(0, len(out), TS)
            if pcr_of(out, off) is not None]
    for (o1, p1), (o2, p2) in itertools.pairwise(pcrs):
        assert p1 is not None and p2 is not None
        assert abs((p2 - p1) - (o2 - o1) * TICKS_PER_BYTE) < 300, (o1, o2)
    pts = [v for off in range(0, len(out), TS) for _, v in pes_timestamps(out, off)]
    assert len(pts) > 3 * 25 and all(b > a for a, b in itertools.pairwise(pts))
    assert bytes(out[:len(data)]) == data  # the first pass is the clip itself


def test_injected_drops_make_cc_errors_and_tei() -> None:
    data = synthetic_clip()
    clip = Clip(data, clip_span(data))
    inj = TsErrorInjector(drop_per_s=50)  # one payload packet every other 10 ms slot
    out = replay(clip, 60, inj)
    assert inj.dropped == 30
    assert cc_errors(out) == inj.dropped  # every drop is one continuity gap
    tei = TsErrorInjector(tei_per_s=100)
    out = replay(clip, 40, tei)
    flagged = sum(1 for off in range(0, len(out), TS) if out[off + 1] & 0x80)
    assert flagged == tei.corrupted > 0 and cc_errors(out) == 0
