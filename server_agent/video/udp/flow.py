"""Per-leg figures of a UDP/RTP flow: bitrate, inter-arrival, DSCP, RFC 4445 MDI.

MDI (RFC 4445) per interval (1 s): the delay factor DF = (max VB - min VB) / rate, where the
virtual buffer VB grows by each datagram's bytes at its arrival and drains at the interval's
mean media rate; the media loss rate MLR = TS packets lost per second (RTP gaps x TS packets
per datagram for RTP; continuity errors, from the TS analysis, for plain UDP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from server_agent.video.udp.rtp import SeqTracker


@dataclass
class FlowStats:
    rtp: bool
    expected_dscp: int | None = None
    seq: SeqTracker = field(default_factory=SeqTracker)
    datagrams: int = 0
    bytes: int = 0
    dscp_counts: dict[int, int] = field(default_factory=dict)
    dscp_mismatch: int = 0
    first_t: float | None = None
    last_t: float | None = None
    # the current interval
    _iv_start: float | None = None
    _iv_bytes: int = 0
    _iv_arrivals: list[tuple[float, int]] = field(default_factory=list)
    _gaps: list[float] = field(default_factory=list)
    # results of the last closed interval (None until one closed)
    bitrate_bps: float | None = None
    df_ms: float | None = None
    iat_mean_ms: float | None = None
    iat_max_ms: float | None = None
    iat_std_ms: float | None = None
    df_history: list[float] = field(default_factory=list)
    ts_per_datagram: float = 7.0

    def datagram(self, t: float, size: int, tos: int | None) -> None:
        if self.last_t is not None:
            self._gaps.append(t - self.last_t)
        if self.first_t is None:
            self.first_t = t
        self.last_t = t
        self.datagrams += 1
        self.bytes += size
        if self._iv_start is None:
            self._iv_start = t
        self._iv_bytes += size
        self._iv_arrivals.append((t, size))
        if tos is not None:
            dscp = tos >> 2
            self.dscp_counts[dscp] = self.dscp_counts.get(dscp, 0) + 1
            if self.expected_dscp is not None and dscp != self.expected_dscp:
                self.dscp_mismatch += 1

    def close_interval(self, now: float) -> None:
        start = self._iv_start
        arrivals, self._iv_arrivals = self._iv_arrivals, []
        gaps, self._gaps = self._gaps, []
        nbytes, self._iv_bytes = self._iv_bytes, 0
        self._iv_start = now
        span = now - start if start is not None else 0.0
        if span <= 0 or not arrivals:
            self.bitrate_bps = 0.0 if start is not None else None
            return
        self.bitrate_bps = nbytes * 8 / span
        rate = nbytes / span  # bytes per second
        vb = hi = lo = 0.0
        t0 = arrivals[0][0]
        for t, size in arrivals:
            drained = vb - (t - t0) * rate
            lo = min(lo, drained)
            vb = drained + size
            hi = max(hi, vb)
            t0 = t
        self.df_ms = (hi - lo) / rate * 1000.0
        self.df_history.append(self.df_ms)
        if gaps:
            mean = sum(gaps) / len(gaps)
            self.iat_mean_ms = mean * 1000
            self.iat_max_ms = max(gaps) * 1000
            self.iat_std_ms = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) * 1000

    @property
    def dscp_observed(self) -> list[int]:
        return sorted(self.dscp_counts)
