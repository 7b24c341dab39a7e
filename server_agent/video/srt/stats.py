"""SRT figures of one leg: ``srt_bistats(clear=1)`` snapshots -> accumulated counts ->
:class:`~server_agent.contract.SrtLegStats`.

libsrt 1.5.1 has no running totals for the receiver's retransmitted and belated counters
(design §9), so exactly one reader (the 10 Hz tick, or the connection thread for the last
snapshot before it closes a socket) reads with clear=1, and this accumulator adds the interval
counts up. Counts are totals since the leg started (they survive reconnects, as Prometheus
counters should); while disconnected nothing is added, rates are 0 and RTT / buffer are null.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

from server_agent.contract import SrtLegStats
from server_agent.video.srt.advisor import advise

Mode = Literal["device", "monitor", "relay"]
State = Literal["connected", "connecting", "disconnected"]
WINDOW_S = 10.0  # the advisor looks at the last 10 s
INITIAL_RTT_MS = 100.0  # libsrt reports this until the first ACK-ACK measured a real RTT


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One ``srt_bistats(clear=1)`` reading (interval counts, instant values)."""

    received: int = 0
    lost: int = 0
    retransmitted: int = 0
    dropped: int = 0
    belated: int = 0
    recv_rate_mbps: float = 0.0
    send_rate_mbps: float = 0.0
    rtt_ms: float | None = None
    bandwidth_mbps: float | None = None
    buffer_ms: float | None = None
    latency_ms: float | None = None
    flow_window: int | None = None

    @classmethod
    def from_perf(cls, p: object, sender: bool) -> Snapshot:
        """From a ``PerfMon``; a sender's loss/retransmit/drop are its own counters."""
        g = p.__getattribute__
        if sender:
            return cls(received=0, lost=g("pktSndLoss"), retransmitted=g("pktRetrans"),
                       dropped=g("pktSndDrop"), belated=0,
                       send_rate_mbps=g("mbpsSendRate"), rtt_ms=g("msRTT"),
                       bandwidth_mbps=g("mbpsBandwidth"), buffer_ms=None,
                       latency_ms=g("msSndTsbPdDelay"), flow_window=g("pktFlowWindow"))
        return cls(received=g("pktRecv"), lost=g("pktRcvLoss"),
                   retransmitted=g("pktRcvRetrans"), dropped=g("pktRcvDrop"),
                   belated=g("pktRcvBelated"), recv_rate_mbps=g("mbpsRecvRate"),
                   send_rate_mbps=g("mbpsSendRate"), rtt_ms=g("msRTT"),
                   bandwidth_mbps=g("mbpsBandwidth"), buffer_ms=g("msRcvBuf"),
                   latency_ms=g("msRcvTsbPdDelay"), flow_window=g("pktFlowWindow"))


@dataclass
class SrtFigures:
    """The accumulated figures of one leg."""

    mode: Mode
    state: State = "connecting"
    received: int = 0
    lost: int = 0
    retransmitted: int = 0
    dropped: int = 0
    belated: int = 0
    reconnects: int = 0
    encrypted: bool | None = None
    last: Snapshot | None = None
    rtt_sum: float = 0.0
    rtt_n: int = 0
    rtt_max: float | None = None
    latency_ms: float | None = None
    buf_sum: float = 0.0
    buf_n: int = 0
    _rtt_measured: bool = False
    _window: deque[tuple[float, int, int, int]] = field(default_factory=deque)

    def add(self, snaps: list[Snapshot], state: State, now: float) -> None:
        """Take this tick's snapshots (several when a socket closed since the last tick)."""
        self.state = state
        for s in snaps:
            self.received += s.received
            self.lost += s.lost
            self.retransmitted += s.retransmitted
            self.dropped += s.dropped
            self.belated += s.belated
        connected = state == "connected" and bool(snaps)
        if state != "connected":
            self._rtt_measured = False  # the next socket starts from libsrt's start value
        self.last = snaps[-1] if connected else None
        if self.last is not None:
            if self.last.rtt_ms == INITIAL_RTT_MS and not self._rtt_measured:
                self.last = replace(self.last, rtt_ms=None)  # libsrt's start value
            elif self.last.rtt_ms is not None:
                self._rtt_measured = True
                self.rtt_sum += self.last.rtt_ms
                self.rtt_n += 1
                self.rtt_max = max(self.rtt_max or 0.0, self.last.rtt_ms)
            if self.last.buffer_ms is not None:
                self.buf_sum += self.last.buffer_ms
                self.buf_n += 1
            if self.last.latency_ms:
                self.latency_ms = self.last.latency_ms
        w = self._window
        w.append((now, self.received, self.lost, self.dropped))
        while w and now - w[0][0] > WINDOW_S:
            w.popleft()

    @property
    def rtt_mean(self) -> float | None:
        return self.rtt_sum / self.rtt_n if self.rtt_n else None

    def summary(self) -> dict[str, object]:
        """stream-check's ``srt`` figures (design §8): RTT and buffer are means over the
        check, with the RTT's maximum beside them."""
        r = _r
        return {"mode": self.mode, "state": self.state, "rtt_ms": r(self.rtt_mean),
                "rtt_ms_max": r(self.rtt_max), "packets_received": self.received,
                "packets_lost": self.lost, "packets_retransmitted": self.retransmitted,
                "packets_dropped": self.dropped, "packets_belated": self.belated,
                "receive_buffer_ms": r(self.buf_sum / self.buf_n) if self.buf_n else None,
                "latency_ms": self.latency_ms, "reconnects": self.reconnects,
                "encrypted": self.encrypted,
                "advice": advise(self.latency_ms, self.rtt_mean, self.received, self.lost,
                                 self.dropped)}

    def advice(self) -> str | None:
        if len(self._window) < 2:
            return None
        _, r0, l0, d0 = self._window[0]
        _, r1, l1, d1 = self._window[-1]
        return advise(self.latency_ms, self.rtt_mean, r1 - r0, l1 - l0, d1 - d0)

    def status(self) -> SrtLegStats:
        s = self.last
        return SrtLegStats(
            mode=self.mode, state=self.state,
            rtt_ms=None if s is None else s.rtt_ms, rtt_ms_max=self.rtt_max,
            bandwidth_bps=None if s is None or s.bandwidth_mbps is None
            else s.bandwidth_mbps * 1e6,
            receive_rate_bps=0.0 if s is None else s.recv_rate_mbps * 1e6,
            send_rate_bps=0.0 if s is None else s.send_rate_mbps * 1e6,
            packets_received=self.received, packets_lost=self.lost,
            packets_retransmitted=self.retransmitted, packets_dropped=self.dropped,
            packets_belated=self.belated,
            receive_buffer_ms=None if s is None else s.buffer_ms,
            latency_ms=self.latency_ms, flow_window=None if s is None else s.flow_window,
            reconnects=self.reconnects, encrypted=self.encrypted, advice=self.advice())


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def device_summary(st: SrtLegStats) -> dict[str, object]:
    """stream-check's ``srt`` figures of a device-reported leg (the device's own numbers)."""
    return {"mode": "device", "state": st.state, "rtt_ms": st.rtt_ms,
            "rtt_ms_max": st.rtt_ms_max, "packets_received": st.packets_received,
            "packets_lost": st.packets_lost, "packets_retransmitted": st.packets_retransmitted,
            "packets_dropped": st.packets_dropped, "packets_belated": st.packets_belated,
            "receive_buffer_ms": st.receive_buffer_ms, "latency_ms": st.latency_ms,
            "reconnects": st.reconnects, "encrypted": st.encrypted, "advice": st.advice}
