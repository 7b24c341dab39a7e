"""MPEG-TS for the simulated encoders: a clip encoded once, replayed seamlessly in a loop.

    encode_clip()  ffmpeg (lavfi testsrc2 + sine, libx264 CBR, -muxrate) -> cache/clip-*.ts, once
    Clip           the file in memory + its PCR span (27 MHz ticks per pass, from its PCRs)
    Replayer       hands out datagrams of 7 packets; loop k adds k * span to every PCR and
                   k * span / 300 to every PTS/DTS, and renumbers continuity counters on the
                   fly, so the loop point is invisible to a TR 101 290 analyser (design §5)
    TsErrorInjector drops payload packets (-> continuity_count_error) or sets the
                   transport_error_indicator (-> transport_error) at a given rate

Continuity counters are rewritten for every packet (payload packets +1 per PID, adaptation-only
packets repeat the last value), before fault injection, so an injected drop shows as a gap.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("flypack.sim.ts")

TS = 188
NULL_PID = 0x1FFF
PCR_WRAP = (1 << 33) * 300
PTS_WRAP = 1 << 33
PACKETS_PER_DATAGRAM = 7
_NO_PTS_STREAMS = {0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF}


class ClipError(RuntimeError):
    """The test clip could not be made or read; the message says what to do."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flypack" / "sim"


def encode_clip(cache_dir: Path, mbps: float = 3.0, seconds: int = 10) -> Path:
    """The cached clip, encoding it with ffmpeg first if needed (a few seconds of CPU)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"clip-{mbps:g}M-{seconds}s-v1.ts"
    if out.exists() and out.stat().st_size > 0:
        return out
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ClipError("ffmpeg is not installed, so the simulated encoders send no streams; "
                        "install it (apt-get install ffmpeg) and restart")
    mux = int(mbps * 1_000_000)
    video = int(mux * 0.7) - 128_000
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
           "-t", str(seconds), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-b:v", str(video), "-maxrate", str(video), "-bufsize", str(video // 2),
           "-x264-params", "nal-hrd=cbr:force-cfr=1", "-g", "25", "-sc_threshold", "0",
           "-c:a", "aac", "-b:a", "128k",
           "-f", "mpegts", "-muxrate", str(mux), "-pcr_period", "20", str(tmp)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    except subprocess.CalledProcessError as exc:
        tmp.unlink(missing_ok=True)
        raise ClipError(f"ffmpeg failed to encode the test clip: "
                        f"{exc.stderr.decode(errors='replace')[-300:]}") from None
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise ClipError("ffmpeg took over 300 s to encode the test clip") from None
    tmp.replace(out)
    log.info("encoded the simulator's test clip %s (%d bytes)", out, out.stat().st_size)
    return out


# --- packet fields -----------------------------------------------------------------------


def pid_of(p: bytes | bytearray | memoryview, off: int = 0) -> int:
    return ((p[off + 1] & 0x1F) << 8) | p[off + 2]


def cc_of(p: bytes | bytearray | memoryview, off: int = 0) -> int:
    return p[off + 3] & 0x0F


def has_payload(p: bytes | bytearray | memoryview, off: int = 0) -> bool:
    return bool(p[off + 3] & 0x10)


def pcr_of(p: bytes | bytearray | memoryview, off: int = 0) -> int | None:
    """The PCR in 27 MHz ticks, or None when the packet carries none."""
    if not p[off + 3] & 0x20 or p[off + 4] == 0 or not p[off + 5] & 0x10:
        return None
    b = p[off + 6:off + 12]
    base = (b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7)
    return base * 300 + (((b[4] & 1) << 8) | b[5])


def _set_pcr(p: bytearray, off: int, pcr: int) -> None:
    base, ext = divmod(pcr % PCR_WRAP, 300)
    p[off + 6:off + 12] = bytes((
        (base >> 25) & 0xFF, (base >> 17) & 0xFF, (base >> 9) & 0xFF, (base >> 1) & 0xFF,
        ((base & 1) << 7) | 0x7E | (ext >> 8), ext & 0xFF))


def _payload_start(p: bytes | bytearray | memoryview, off: int) -> int:
    return off + 4 + (1 + p[off + 4] if p[off + 3] & 0x20 else 0)


def pes_timestamps(p: bytes | bytearray | memoryview, off: int = 0) -> list[tuple[int, int]]:
    """(position, value) of the PTS and DTS in a packet that starts a PES packet."""
    if not p[off + 1] & 0x40 or not p[off + 3] & 0x10:
        return []
    s = _payload_start(p, off)
    if s + 14 > off + TS or p[s:s + 3] != b"\x00\x00\x01" or p[s + 3] in _NO_PTS_STREAMS:
        return []
    flags = p[s + 7] >> 6
    out = []
    for pos in ((s + 9,) if flags == 2 else (s + 9, s + 14) if flags == 3 else ()):
        if pos + 5 > off + TS:
            break
        b = p[pos:pos + 5]
        out.append((pos, ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15
                    | b[3] << 7 | b[4] >> 1))
    return out


def _set_ts(p: bytearray, pos: int, v: int) -> None:
    v %= PTS_WRAP
    p[pos:pos + 5] = bytes((
        (p[pos] & 0xF0) | ((v >> 29) & 0x0E) | 1, (v >> 22) & 0xFF,
        ((v >> 14) & 0xFE) | 1, (v >> 7) & 0xFF, ((v << 1) & 0xFE) | 1))


# --- the clip and its replay ----------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    data: bytes
    span: int  # 27 MHz ticks from the first packet of one pass to the first of the next

    @property
    def packets(self) -> int:
        return len(self.data) // TS

    @classmethod
    def load(cls, path: Path) -> Clip:
        data = path.read_bytes()
        if not data or len(data) % TS or any(data[i] != 0x47 for i in range(0, len(data), TS)):
            raise ClipError(f"{path} is not a whole MPEG-TS file; delete it to re-encode")
        return cls(data, clip_span(data))


def clip_span(data: bytes) -> int:
    """The PCR span of one pass, extrapolated from the first and last PCR by byte position
    (exact for a CBR mux, where the PCR is a function of the byte position)."""
    first: tuple[int, int] | None = None
    last: tuple[int, int] | None = None
    pcr_pid = None
    for off in range(0, len(data), TS):
        pcr = pcr_of(data, off)
        if pcr is None or (pcr_pid is not None and pid_of(data, off) != pcr_pid):
            continue
        pcr_pid = pid_of(data, off)
        if first is None:
            first = (off, pcr)
        last = (off, pcr)
    if first is None or last is None or last[0] == first[0]:
        raise ClipError("the test clip has fewer than two PCRs; delete it to re-encode")
    per_byte = ((last[1] - first[1]) % PCR_WRAP) / (last[0] - first[0])
    return round(per_byte * len(data))


@dataclass
class Replayer:
    clip: Clip
    pos: int = 0  # packet index in the clip
    loop: int = 0
    cc: dict[int, int] = field(default_factory=dict)

    def next_datagram(self, packets: int = PACKETS_PER_DATAGRAM) -> bytearray:
        n = min(packets, self.clip.packets - self.pos)
        start = self.pos * TS
        buf = bytearray(self.clip.data[start:start + n * TS])
        shift = self.loop * self.clip.span
        cc = self.cc
        for off in range(0, len(buf), TS):
            b1, b3 = buf[off + 1], buf[off + 3]
            pid = ((b1 & 0x1F) << 8) | buf[off + 2]
            if pid == NULL_PID:
                continue
            if b3 & 0x10:
                new = (cc[pid] + 1) & 0x0F if pid in cc else b3 & 0x0F
            else:
                new = cc.get(pid, b3 & 0x0F)
            cc[pid] = new
            buf[off + 3] = (b3 & 0xF0) | new
            if shift:
                pcr = pcr_of(buf, off)
                if pcr is not None:
                    _set_pcr(buf, off, pcr + shift)
                if b1 & 0x40:
                    for pos, v in pes_timestamps(buf, off):
                        _set_ts(buf, pos, v + shift // 300)
        self.pos += n
        if self.pos >= self.clip.packets:
            self.pos = 0
            self.loop += 1
        return buf


@dataclass
class TsErrorInjector:
    """Turns rates (per second) into whole packet errors; call :meth:`apply` per datagram."""

    drop_per_s: float = 0.0
    tei_per_s: float = 0.0
    _drop_due: float = 0.0
    _tei_due: float = 0.0
    dropped: int = 0
    corrupted: int = 0

    def apply(self, buf: bytearray, dt: float) -> bytearray:
        self._drop_due = min(self._drop_due + self.drop_per_s * dt, 1000.0)
        self._tei_due = min(self._tei_due + self.tei_per_s * dt, 1000.0)
        if self._drop_due < 1 and self._tei_due < 1:
            return buf
        out = bytearray()
        for off in range(0, len(buf), TS):
            pkt = buf[off:off + TS]
            payload = pid_of(pkt) != NULL_PID and has_payload(pkt)
            if payload and self._drop_due >= 1:
                self._drop_due -= 1
                self.dropped += 1
                continue
            if payload and self._tei_due >= 1:
                self._tei_due -= 1
                self.corrupted += 1
                pkt[1] |= 0x80
            out += pkt
        return out
