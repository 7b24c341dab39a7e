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

from collections import deque
from statistics import median

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
        m = median(self.intervals)
        agree = sum(abs(x - m) <= m * CBR_PPM for x in self.intervals)
        return m if agree >= len(self.intervals) * 3 / 4 else None

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
