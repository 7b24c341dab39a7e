"""PSI/SI sections: reassembly per PID (pointer_field, sections spanning packets, several per
packet, stuffing) and the tables the analysis needs (PAT, PMT, CAT, SDT service names).

Sections are handed on only when complete; the caller checks the CRC (MPEG-2 CRC-32) and
parses. A continuity error or a duplicate on the PID is reported by the caller with
:meth:`SectionAssembler.reset` / by not feeding the duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SECTION = 4096

STREAM_TYPES = {
    0x01: "MPEG-1 video", 0x02: "MPEG-2 video", 0x03: "MPEG-1 audio", 0x04: "MPEG-2 audio",
    0x05: "private sections", 0x06: "PES private data", 0x0F: "AAC audio (ADTS)",
    0x11: "AAC audio (LATM)", 0x10: "MPEG-4 video", 0x15: "metadata", 0x1B: "H.264 video",
    0x24: "HEVC video", 0x81: "AC-3 audio", 0x86: "SCTE-35", 0x87: "E-AC-3 audio",
    0x2D: "MPEG-H audio", 0x33: "VVC video",
}
# elementary streams that must carry PTS (PTS_error) and must keep flowing (PID_error);
# sparse or data types (private sections/PES, SCTE-35, metadata) are left out
AV_STREAM_TYPES = frozenset({0x01, 0x02, 0x03, 0x04, 0x0F, 0x10, 0x11, 0x1B, 0x24, 0x81, 0x87,
                             0x2D, 0x33})


class SectionAssembler:
    __slots__ = ("buf", "need")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.need = 0  # 0 = not inside a section

    def reset(self) -> None:
        self.buf.clear()
        self.need = 0

    def feed(self, payload: bytes, pusi: bool) -> list[bytes]:
        out: list[bytes] = []
        if pusi:
            if not payload:
                self.reset()
                return out
            ptr = payload[0]
            if self.need:
                self.buf += payload[1:1 + ptr]
                self._take(out)
            self.reset()
            rest = payload[1 + ptr:]
            while rest and rest[0] != 0xFF:
                if len(rest) < 3:
                    self.buf += rest
                    self.need = -1  # header incomplete
                    break
                total = 3 + (((rest[1] & 0x0F) << 8) | rest[2])
                if total > MAX_SECTION:
                    break
                if len(rest) >= total:
                    out.append(bytes(rest[:total]))
                    rest = rest[total:]
                    continue
                self.buf += rest
                self.need = total
                break
        elif self.need:
            self.buf += payload
            self._take(out)
        return out

    def _take(self, out: list[bytes]) -> None:
        if self.need == -1 and len(self.buf) >= 3:
            self.need = 3 + (((self.buf[1] & 0x0F) << 8) | self.buf[2])
            if self.need > MAX_SECTION:
                self.reset()
                return
        if self.need > 0 and len(self.buf) >= self.need:
            out.append(bytes(self.buf[: self.need]))
            self.reset()


@dataclass
class Program:
    number: int
    pmt_pid: int
    pcr_pid: int | None = None
    streams: dict[int, int] = field(default_factory=dict)  # pid -> stream_type
    service_name: str = ""
    provider: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "program_number": self.number, "pmt_pid": self.pmt_pid, "pcr_pid": self.pcr_pid,
            "service_name": self.service_name, "provider": self.provider,
            "streams": [{"pid": pid, "stream_type": st,
                         "type": STREAM_TYPES.get(st, f"0x{st:02x}")}
                        for pid, st in sorted(self.streams.items())],
        }


def parse_pat(sec: bytes) -> dict[int, int] | None:
    """program_number -> PMT PID (program 0 -> network PID); None when malformed."""
    if len(sec) < 12 or sec[0] != 0x00:
        return None
    out: dict[int, int] = {}
    for i in range(8, len(sec) - 4 - 3, 4):
        out[(sec[i] << 8) | sec[i + 1]] = ((sec[i + 2] & 0x1F) << 8) | sec[i + 3]
    return out


def parse_pmt(sec: bytes) -> tuple[int, int, dict[int, int]] | None:
    """(program_number, PCR PID, {pid: stream_type}); None when malformed."""
    if len(sec) < 16 or sec[0] != 0x02:
        return None
    number = (sec[3] << 8) | sec[4]
    pcr_pid = ((sec[8] & 0x1F) << 8) | sec[9]
    i = 12 + (((sec[10] & 0x0F) << 8) | sec[11])
    end = len(sec) - 4
    streams: dict[int, int] = {}
    while i + 5 <= end:
        streams[((sec[i + 1] & 0x1F) << 8) | sec[i + 2]] = sec[i]
        i += 5 + (((sec[i + 3] & 0x0F) << 8) | sec[i + 4])
    return number, pcr_pid, streams


def parse_sdt(sec: bytes) -> dict[int, tuple[str, str]]:
    """service_id -> (provider, service name) from an SDT actual (table_id 0x42)."""
    out: dict[int, tuple[str, str]] = {}
    if len(sec) < 15 or sec[0] != 0x42:
        return out
    i, end = 11, len(sec) - 4
    while i + 5 <= end:
        sid = (sec[i] << 8) | sec[i + 1]
        loop = ((sec[i + 3] & 0x0F) << 8) | sec[i + 4]
        j, jend = i + 5, min(i + 5 + loop, end)
        while j + 2 <= jend:
            tag, ln = sec[j], sec[j + 1]
            d = sec[j + 2: j + 2 + ln]
            if tag == 0x48 and len(d) >= 2:
                pl = d[1]
                prov = d[2:2 + pl]
                nl = d[2 + pl] if len(d) > 2 + pl else 0
                name = d[3 + pl: 3 + pl + nl]
                out[sid] = (_text(prov), _text(name))
            j += 2 + ln
        i += 5 + loop
    return out


def _text(b: bytes) -> str:
    if b and b[0] < 0x20:  # DVB character table selector: keep it simple
        b = b[1:]
    return b.decode("latin-1", errors="replace")
