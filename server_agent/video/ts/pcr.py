"""PCR: the stream clock and the PCR checks (TR 101 290 2.3a, 2.3b, 2.4).

:class:`StreamClock` turns the PCRs of one reference PID into a continuous stream time in
seconds (PCR wrap and discontinuities bridged by the packet rate), interpolated per packet by
position. :class:`PcrTrack` judges one PCR PID:

* ``pcr_repetition_error``: more than ``pcr_repetition_s`` of stream time between two PCRs;
* ``pcr_discontinuity_indicator_error``: PCR(i+1) - PCR(i) outside 0..``pcr_discontinuity_s``
  without the discontinuity_indicator (a PCR gap over 100 ms therefore counts both);
* ``pcr_accuracy_error``: |PCR - expected| > ``pcr_accuracy_ns``, where expected = previous
  PCR + bytes since it x the stream's ticks per byte (median of the last 16 intervals). Only
  for CBR: when >= 12 of the last 16 intervals agree with the median within 25 ppm. A lost or
  dropped packet moves the following PCR by one packet time (75 us at 20 Mb/s): one error.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

PCR_HZ = 27_000_000
PCR_WRAP = (1 << 33) * 300
TS = 188
CBR_PPM = 25e-6
HISTORY = 16


def signed_delta(a: int, b: int) -> int:
    """b - a in 27 MHz ticks across the 33-bit wrap, in -WRAP/2 .. WRAP/2."""
    d = (b - a) % PCR_WRAP
    return d - PCR_WRAP if d > PCR_WRAP // 2 else d


class StreamClock:
    """Stream time of packets from the reference PID's PCRs."""

    def __init__(self) -> None:
        self.ref_pid: int | None = None
        self.anchor: tuple[int, float, int] | None = None  # (packet index, time s, pcr)
        self.spp = 188 * 8 / 10e6  # seconds per packet, refined from the PCRs

    def advance(self, g: int, pcr: int, discontinuity: bool, start: float) -> float:
        """Time of packet ``g`` carrying ``pcr`` (``start`` is the time of the first PCR)."""
        a = self.anchor
        if a is None:
            t = start
        else:
            ag, at, apcr = a
            dt_pkts = (g - ag) * self.spp
            d = signed_delta(apcr, pcr) / PCR_HZ
            if not discontinuity and 0 < d <= 1.0 and g > ag:
                t = at + d
                self.spp = d / (g - ag)
            else:
                t = at + max(dt_pkts, 0.0)
        self.anchor = (g, t, pcr)
        return t


class PcrTrack:
    __slots__ = ("intervals", "prev")

    def __init__(self) -> None:
        self.prev: tuple[int, float, int] | None = None  # (byte position, stream time, pcr)
        self.intervals: deque[float] = deque(maxlen=HISTORY)

    def cbr_ticks_per_byte(self) -> float | None:
        if len(self.intervals) < HISTORY // 2:
            return None
        iv = sorted(self.intervals)
        n = len(iv)
        h = n // 2
        m = iv[h] if n % 2 else (iv[h - 1] + iv[h]) / 2  # the median (as statistics.median)
        tol = m * CBR_PPM
        lo, hi = m - tol, m + tol  # |x - m| <= tol, counted on the sorted list
        agree = bisect_right(iv, hi) - bisect_left(iv, lo)
        return m if agree >= n * 3 / 4 else None

    def check(self, pos: int, t: float, pcr: int, discontinuity: bool,
              rep_s: float, disc_s: float, acc_ns: float) -> tuple[int, int, int]:
        """(repetition, discontinuity, accuracy) errors for this PCR."""
        prev, self.prev = self.prev, (pos, t, pcr)
        if prev is None or discontinuity:
            return 0, 0, 0
        ppos, pt, ppcr = prev
        rep = int(t - pt > rep_s)
        d = signed_delta(ppcr, pcr)
        disc = int(d < 0 or d > disc_s * PCR_HZ)
        acc = 0
        nbytes = pos - ppos
        if not disc and nbytes > 0:
            tpb = self.cbr_ticks_per_byte()
            if tpb is not None:
                acc = int(abs(d - nbytes * tpb) > acc_ns * PCR_HZ / 1e9)
            self.intervals.append(d / nbytes)
        return rep, disc, acc


def ref_pcrs_at_once(clock: StreamClock, track: PcrTrack, g: npt.NDArray[np.int64],
                     pcrs: npt.NDArray[np.int64], rep_s: float, disc_s: float, acc_ns: float
                     ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_],
                                npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """The ordinary case, vectorised: a chunk's PCRs all on the reference PID, none with the
    discontinuity indicator, all 0 < step <= 100 ms, after the track's history is full.
    Returns (times, repetition, discontinuity, accuracy errors) exactly as calling
    :meth:`StreamClock.advance` and :meth:`PcrTrack.check` per PCR would, or None (then the
    caller takes the per-PCR path)."""
    a, prev = clock.anchor, track.prev
    if a is None or prev is None or len(track.intervals) < HISTORY or a[2] != prev[2]:
        return None
    ppcr = np.empty_like(pcrs)
    ppcr[0] = prev[2]
    ppcr[1:] = pcrs[:-1]
    d = (pcrs - ppcr) % PCR_WRAP
    d[d > PCR_WRAP // 2] -= PCR_WRAP  # signed_delta
    pos = g * TS
    nbytes = pos - np.concatenate(((prev[0],), pos[:-1]))
    gstep = g - np.concatenate(((a[0],), g[:-1]))
    dsec = d / PCR_HZ
    if not ((d > 0).all() and (d <= disc_s * PCR_HZ).all() and (dsec <= 1.0).all()
            and (nbytes > 0).all() and (gstep > 0).all()):
        return None
    # StreamClock.advance: t = previous t + d, summed in the same order
    t = np.add.accumulate(np.concatenate(([a[1]], dsec)))[1:]
    rep = (t - np.concatenate(((prev[1],), t[:-1]))) > rep_s
    # PcrTrack.check: the median of the 16 intervals before each PCR and their agreement
    new = d / nbytes
    win = np.sort(sliding_window_view(np.concatenate((np.array(track.intervals), new)),
                                      HISTORY)[: len(new)], axis=1)
    m = (win[:, HISTORY // 2 - 1] + win[:, HISTORY // 2]) / 2
    tol = m * CBR_PPM
    agree = ((win >= (m - tol)[:, None]) & (win <= (m + tol)[:, None])).sum(axis=1)
    acc = (agree >= HISTORY * 3 / 4) & (np.abs(d - nbytes * m) > acc_ns * PCR_HZ / 1e9)
    clock.spp = float(dsec[-1] / gstep[-1])
    clock.anchor = (int(g[-1]), float(t[-1]), int(pcrs[-1]))
    track.prev = (int(pos[-1]), float(t[-1]), int(pcrs[-1]))
    track.intervals.extend(new.tolist())
    return t, rep, np.zeros(len(t), np.bool_), acc


class Timeline:
    """Stream time of the packets of one chunk, computed only where asked for: by position
    between the reference PCRs (``ag``: packet index in the chunk, ``at``: time; np.interp),
    past the last one at ``spp`` seconds per packet; a constant ``start`` without PCRs."""

    __slots__ = ("_slope", "ag", "at", "last", "spp", "start")

    def __init__(self, ag: list[float], at: list[float], spp: float, start: float) -> None:
        self.ag = np.array(ag, np.float64)
        self.at = np.array(at, np.float64)
        self.spp = spp
        self.start = start
        self.last = float(self.ag[-1]) if len(ag) else 0.0
        self._slope: float | None = None

    @property
    def max_slope(self) -> float:
        """The most stream time one packet step can take: bounds the gaps between packets."""
        if self._slope is None:
            n = len(self.ag)
            slope = 0.0
            if n > 1:
                slope = float((np.diff(self.at) / np.diff(self.ag)).max())
            self._slope = max(slope, self.spp) if n else 0.0
        return self._slope

    def rows(self, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        if not len(idx):
            return np.zeros(0, np.float64)
        if not len(self.ag):
            return np.full(len(idx), self.start, np.float64)
        x = idx.astype(np.float64)
        t = np.interp(x, self.ag, self.at)
        tail = x > self.last
        if tail.any():
            t[tail] = self.at[-1] + (x[tail] - self.last) * self.spp
        return t

    def one(self, i: int) -> float:
        if len(self.ag) and i > self.last:  # the common case (the end of a chunk): scalar
            return float(self.at[-1] + (float(i) - self.last) * self.spp)
        return float(self.rows(np.array([i], np.intp))[0])
