"""Packet framing: bytes in any chunking -> whole 188-byte packets on the sync grid.

TR 101 290 1.1 / 1.2 with the usual hysteresis: sync is acquired after ``acquire_after`` (5)
consecutive sync bytes on the 188-byte grid and lost after ``lose_after`` (2) consecutive
corrupted ones. Then:

* a corrupted sync byte while in sync counts one ``sync_byte_error``; when fewer than
  ``lose_after`` come in a row, the packet is still handed on (its other fields sit intact on
  the grid) and flagged;
* ``lose_after`` in a row count one ``ts_sync_loss``: those packets are discarded and the
  framer hunts, byte by byte, for a new grid of ``acquire_after`` sync bytes;
* before the first acquisition nothing is counted (that is "not yet synchronised", reported as
  ``skipped_bytes``).

The grid check is one vectorised comparison per chunk; the slow path runs only around errors.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TS = 188
SYNC = 0x47
U8 = npt.NDArray[np.uint8]
_EMPTY = np.zeros((0, TS), np.uint8)
HEAD = 8  # header bytes 0..3 + adaptation length and flags


class Framer:
    def __init__(self, acquire_after: int = 5, lose_after: int = 2) -> None:
        self.acquire_after = acquire_after
        self.lose_after = lose_after
        self.in_sync = False
        self.ever_synced = False
        self.sync_byte_error = 0
        self.ts_sync_loss = 0
        self.skipped_bytes = 0
        self.bytes_in = 0
        self._carry = np.zeros(0, np.uint8)
        # the first HEAD bytes of every packet of the last push, when it returned one clean
        # block (the analyzer reuses them instead of reading the packets again), else None
        self.head: U8 | None = None

    @property
    def pending_bytes(self) -> int:
        return int(self._carry.size)

    def push(self, data: bytes | bytearray | memoryview | U8) -> tuple[U8, npt.NDArray[np.bool_]]:
        """Packets (n, 188) ready for analysis, and a mask of those with a bad sync byte."""
        arr = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
        self.bytes_in += int(arr.size)
        buf = np.concatenate((self._carry, arr)) if self._carry.size else arr
        out: list[U8] = []
        heads: list[U8] = []
        bad_out: list[npt.NDArray[np.bool_]] = []
        self.head = None
        while True:
            if not self.in_sync:
                off = self._hunt(buf)
                if off is None:
                    keep = min(buf.size, self.acquire_after * TS)
                    self.skipped_bytes += buf.size - keep
                    buf = buf[buf.size - keep:]
                    break
                self.skipped_bytes += off
                buf = buf[off:]
                self.in_sync = self.ever_synced = True
            n = buf.size // TS
            if n == 0:
                break
            pk = buf[: n * TS].reshape(n, TS)
            head = pk[:, :HEAD].copy()  # the only pass over the packets' first cache line
            good = head[:, 0] == SYNC
            if good.all():
                out.append(pk)
                heads.append(head)
                bad_out.append(np.zeros(n, np.bool_))
                buf = buf[n * TS:]
                break
            take, consumed = self._errors(good)
            out.append(pk[:take])
            bad_out.append(~good[:take])
            buf = buf[consumed:]
            if self.in_sync:  # stopped at an undecided bad packet at the end of the chunk
                break
        self._carry = buf.copy() if buf.size else np.zeros(0, np.uint8)
        if not out:
            return _EMPTY, np.zeros(0, np.bool_)
        if len(out) == 1:
            if heads:
                self.head = heads[0]
            return out[0], bad_out[0]
        return np.concatenate(out), np.concatenate(bad_out)

    def _errors(self, good: npt.NDArray[np.bool_]) -> tuple[int, int]:
        """Walk the bad packets: (packets to hand on, bytes consumed)."""
        n = good.size
        bad_idx = np.flatnonzero(~good)
        i = 0
        while i < bad_idx.size:
            k = int(bad_idx[i])
            run = 1
            while i + run < bad_idx.size and bad_idx[i + run] == k + run:
                run += 1
            if k + run == n and run < self.lose_after:
                return k, k * TS  # cannot decide yet: keep the bad tail for the next chunk
            if run >= self.lose_after:
                self.sync_byte_error += self.lose_after
                self.ts_sync_loss += 1
                self.in_sync = False
                return k, k * TS + 1  # hunt from the byte after the first bad sync byte
            self.sync_byte_error += run
            i += run
        return n, n * TS

    def _hunt(self, buf: U8) -> int | None:
        need = (self.acquire_after - 1) * TS + 1
        if buf.size < need:
            return None
        span = buf.size - need + 1
        lo, step = 0, 64 * TS  # look near the start first: a grid is usually found at once
        while lo < span:
            hi = min(span, lo + step)
            cand = np.flatnonzero(buf[lo:hi] == SYNC) + lo
            for k in range(1, self.acquire_after):
                if not cand.size:
                    break
                cand = cand[buf[cand + k * TS] == SYNC]
            if cand.size:
                return int(cand[0])
            lo, step = hi, step * 4
        return None

    def flush(self) -> tuple[U8, int]:
        """At the end of a file: packets still held back (a short file that never reached
        ``acquire_after`` packets but is all on one grid) and the bytes left over."""
        buf = self._carry
        self._carry = np.zeros(0, np.uint8)
        self.head = None
        if self.in_sync and buf.size >= TS:
            n = buf.size // TS
            pk = buf[: n * TS].reshape(n, TS)
            self.sync_byte_error += int(np.count_nonzero(pk[:, 0] != SYNC))
            return pk, int(buf.size - n * TS)
        if (not self.ever_synced and self.skipped_bytes == 0 and buf.size >= TS
                and buf.size % TS == 0 and (buf[::TS] == SYNC).all()):
            n = buf.size // TS  # a whole file shorter than acquire_after packets
            self.in_sync = self.ever_synced = True
            return buf.reshape(n, TS), 0
        return _EMPTY, int(buf.size)
