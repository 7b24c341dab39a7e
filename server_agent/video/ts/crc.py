"""MPEG-2 CRC-32 (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value 0xFFFFFFFF,
no bit reflection, no final XOR. This is *not* zlib's CRC-32 (which is reflected and
inverted). A PSI/SI section is intact when the CRC over the whole section, its CRC_32 field
included, is 0.
"""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    out = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else c << 1
        out.append(c & 0xFFFFFFFF)
    return tuple(out)


_TABLE = _table()


def crc32_mpeg2(data: bytes | bytearray | memoryview, crc: int = 0xFFFFFFFF) -> int:
    t = _TABLE
    for b in bytes(data):
        crc = ((crc << 8) & 0xFFFFFFFF) ^ t[(crc >> 24) ^ b]
    return crc


def section_crc_ok(section: bytes | bytearray | memoryview) -> bool:
    return len(section) >= 4 and crc32_mpeg2(section) == 0
