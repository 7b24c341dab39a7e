"""RTP (RFC 3550): header parsing and sequence tracking (gaps, duplicates, reordering)."""

from __future__ import annotations


def rtp_payload(d: bytes) -> tuple[int, bytes] | None:
    """(sequence number, payload) of an RTP packet, or None if it is not RTP version 2."""
    if len(d) < 12 or d[0] >> 6 != 2:
        return None
    off = 12 + 4 * (d[0] & 0x0F)
    if d[0] & 0x10:  # header extension
        if len(d) < off + 4:
            return None
        off += 4 + 4 * ((d[off + 2] << 8) | d[off + 3])
    end = len(d)
    if d[0] & 0x20 and end > off:  # padding
        end -= d[-1]
    if off > end:
        return None
    return (d[2] << 8) | d[3], d[off:end]


class SeqTracker:
    """Extended sequence numbers of one RTP flow. ``lost`` = gaps not (yet) filled; a late
    packet that fills a gap counts as ``reordered`` and no longer as lost."""

    __slots__ = ("duplicates", "lost", "max", "received", "reordered", "seen")

    WINDOW = 4096

    def __init__(self) -> None:
        self.max: int | None = None
        self.seen: set[int] = set()
        self.received = self.lost = self.reordered = self.duplicates = 0

    def extend(self, seq: int) -> int:
        if self.max is None:
            return seq
        d = (seq - (self.max & 0xFFFF)) & 0xFFFF
        if d >= 0x8000:
            d -= 0x10000
        return self.max + d

    def add(self, seq: int) -> int | None:
        """The extended sequence number, or None for a duplicate."""
        ext = self.extend(seq)
        if ext in self.seen:
            self.duplicates += 1
            return None
        self.seen.add(ext)
        self.received += 1
        if self.max is None or ext > self.max:
            if self.max is not None:
                self.lost += ext - self.max - 1
            self.max = ext
        elif ext > self.max - self.WINDOW:
            self.reordered += 1
            self.lost = max(0, self.lost - 1)
        if len(self.seen) > 2 * self.WINDOW:
            floor = self.max - self.WINDOW
            self.seen = {s for s in self.seen if s > floor}
        return ext
