"""Real MPEG-TS for the tests: ffmpeg-encoded once per session, edited packet by packet.

ffmpeg's ``-c copy`` rewrites continuity counters, so errors are injected by editing the raw
188-byte packets here. Expected counts are computed independently of the analyser from the
PCR values and packet positions of the edited file.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from tests.support import require_binary

TS = 188
NULL = bytes([0x47, 0x1F, 0xFF, 0x10]) + b"\xff" * 184


def encode(out: Path, seconds: int = 4, mux_bps: int = 2_000_000, size: str = "320x180") -> Path:
    """lavfi testsrc2 + sine, libx264 CBR, -muxrate, -pcr_period 20 (a few hundred ms CPU)."""
    if out.exists() and out.stat().st_size:
        return out
    ffmpeg = require_binary("ffmpeg")
    video = int(mux_bps * 0.6)
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", str(seconds),
         "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-b:v", str(video), "-maxrate", str(video),
         "-bufsize", str(video // 2), "-x264-params", "nal-hrd=cbr:force-cfr=1", "-g", "25",
         "-c:a", "aac", "-b:a", "96k", "-f", "mpegts", "-muxrate", str(mux_bps),
         "-pcr_period", "20", str(out)], check=True, capture_output=True, timeout=120)
    return out


@dataclass
class Pkt:
    raw: bytearray

    @property
    def pid(self) -> int:
        return ((self.raw[1] & 0x1F) << 8) | self.raw[2]

    @property
    def payload(self) -> bool:
        return bool(self.raw[3] & 0x10)

    @property
    def pusi(self) -> bool:
        return bool(self.raw[1] & 0x40)

    @property
    def cc(self) -> int:
        return self.raw[3] & 0x0F

    @cc.setter
    def cc(self, v: int) -> None:
        self.raw[3] = (self.raw[3] & 0xF0) | (v & 0x0F)

    @property
    def pcr(self) -> int | None:
        r = self.raw
        if not r[3] & 0x20 or r[4] < 7 or not r[5] & 0x10:
            return None
        base = (r[6] << 25) | (r[7] << 17) | (r[8] << 9) | (r[9] << 1) | (r[10] >> 7)
        return base * 300 + (((r[10] & 1) << 8) | r[11])

    def clear_pcr(self) -> None:
        self.raw[5] &= ~0x10 & 0xFF


def split(data: bytes) -> list[Pkt]:
    return [Pkt(bytearray(data[i:i + TS])) for i in range(0, len(data), TS)]


def join(pkts: list[Pkt]) -> bytes:
    return b"".join(bytes(p.raw) for p in pkts)


def renumber(pkts: list[Pkt], pid: int) -> None:
    """Rewrite the continuity counters of ``pid`` so they are continuous again (after a
    deliberate removal that should *not* count as a continuity error)."""
    cc: int | None = None
    for p in pkts:
        if p.pid != pid:
            continue
        if p.payload:
            cc = p.cc if cc is None else (cc + 1) & 0x0F
        if cc is not None:
            p.cc = cc


def pcr_index(pkts: list[Pkt]) -> list[tuple[int, int]]:
    """(packet index, PCR) of every PCR."""
    return [(i, v) for i, p in enumerate(pkts) if (v := p.pcr) is not None]


def pcr_gaps_over(pkts: list[Pkt], limit_s: float) -> int:
    idx = pcr_index(pkts)
    return sum((b[1] - a[1]) / 27e6 > limit_s for a, b in pairwise(idx))


def time_of(pkts: list[Pkt], i: int) -> float:
    """Stream time of packet i (seconds, from the PCRs by position: the file is CBR)."""
    i0 = next(k for k in range(len(pkts)) if pkts[k].pcr is not None)
    i1 = next(k for k in range(len(pkts) - 1, -1, -1) if pkts[k].pcr is not None)
    p0, p1 = pkts[i0].pcr, pkts[i1].pcr
    assert p0 is not None and p1 is not None
    return (p0 + (i - i0) * (p1 - p0) / (i1 - i0)) / 27e6
