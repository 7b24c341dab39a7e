"""A hand-built MPEG-TS with exact control (CBR 1.504 Mb/s: 100 packets per 100 ms; PAT, a
PMT spanning three packets, PCR-only packets every 20 ms, video PES with PTS)."""

from __future__ import annotations

from server_agent.video.ts.crc import crc32_mpeg2, section_crc_ok

RATE = 1_504_000  # 100 packets per 100 ms
TPP = 188 * 8 * 27_000_000 // RATE  # 27 MHz ticks per packet (exact)


def section(table_id: int, ext: int, body: bytes) -> bytes:
    length = 5 + len(body) + 4
    head = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF, ext >> 8, ext & 0xFF,
                  0xC1, 0, 0]) + body
    return head + crc32_mpeg2(head).to_bytes(4, "big")


def packets_of(pid: int, payload: bytes, cc: list[int]) -> list[bytearray]:
    out = []
    data = b"\x00" + payload
    first = True
    while data:
        chunk, data = data[:184], data[184:]
        chunk = chunk + b"\xff" * (184 - len(chunk))
        out.append(bytearray([0x47, (0x40 if first else 0) | pid >> 8, pid & 0xFF,
                              0x10 | cc[0]]) + chunk)
        cc[0] = (cc[0] + 1) & 0xF
        first = False
    return out


def pcr_packet(pid: int, pcr: int, cc: int) -> bytearray:
    base, ext = divmod(pcr, 300)
    af = bytes([183, 0x10, (base >> 25) & 0xFF, (base >> 17) & 0xFF, (base >> 9) & 0xFF,
                (base >> 1) & 0xFF, ((base & 1) << 7) | 0x7E | (ext >> 8), ext & 0xFF])
    return bytearray([0x47, pid >> 8, pid & 0xFF, 0x20 | cc]) + af + b"\xff" * (184 - len(af))


def pes_packet(pid: int, pts: int, cc: int) -> bytearray:
    ts = bytes([0x21 | ((pts >> 29) & 0x0E), (pts >> 22) & 0xFF, ((pts >> 14) & 0xFE) | 1,
                (pts >> 7) & 0xFF, ((pts << 1) & 0xFE) | 1])
    pes = b"\x00\x00\x01\xe0\x00\x00\x80\x80\x05" + ts
    return bytearray([0x47, 0x40 | pid >> 8, pid & 0xFF, 0x10 | cc]) + pes + b"\xaa" * (
        184 - len(pes))


def build(seconds: float = 2.0) -> list[bytearray]:
    pat = section(0x00, 1, bytes([0, 1, 0xE0 | 0x10, 0x00]))  # program 1 -> PMT PID 0x1000
    big_desc = bytes([0x05, 250]) + b"x" * 250  # one long descriptor: PMT spans 3 packets
    es = bytes([0x1B, 0xE1, 0x00, 0xF0, 0x00])
    pmt = section(0x02, 1, bytes([0xE1, 0x00, 0xF0 | (len(big_desc) * 2 >> 8),
                                  len(big_desc) * 2 & 0xFF]) + big_desc * 2 + es)
    assert section_crc_ok(pmt) and len(pmt) > 2 * 184
    cc = {0: [0], 0x1000: [0]}
    vcc = 0
    out: list[bytearray] = []
    for _tick in range(int(seconds * 10)):
        block = packets_of(0, pat, cc[0]) + packets_of(0x1000, pmt, cc[0x1000])
        while len(block) < 100:
            i = len(out) + len(block)
            if len(block) % 20 == 4:
                block.append(pcr_packet(0x100, i * TPP, vcc))  # no payload: CC unchanged
            elif len(block) % 20 == 5:
                vcc = (vcc + 1) & 0xF
                block.append(pes_packet(0x100, (i * TPP // 300) & ((1 << 33) - 1), vcc))
            else:
                vcc = (vcc + 1) & 0xF
                block.append(bytearray([0x47, 0x01, 0x00, 0x10 | vcc]) + b"\xbb" * 184)
        out += block
    return out
