"""The SRT statistics a simulated Makito-like encoder reports in ``GET /api/v1/status``
(its ``srt`` object), driven by the segment's fault injection.

A model, not libsrt: the encoder's SRT output sends ``mbps`` in 1316-byte packets to a
receiver RTT_BASE_MS away. ``latency_ms`` of the fault adds to the one-way delay (RTT grows
by twice that); ``loss_ratio`` loses that share of packets, which ARQ recovers while the
configured latency leaves room for retransmission rounds: with r = latency // RTT rounds a
packet is lost for good with probability p^(r+1) (dropped). ``down`` disconnects the output:
counts stay, rates 0, RTT and buffer null, and the next connection counts a reconnect.
"""

from __future__ import annotations

import time
from typing import Any

from server_agent.sim.faults import FaultBook

RTT_BASE_MS = 2.0
LATENCY_MS = 120
PAYLOAD_BITS = 1316 * 8
SRT_PORT = 9000


class SimSrtOutput:
    def __init__(self, device: str, address: str, faults: FaultBook, mbps: float) -> None:
        self.device = device
        self.url = f"srt://{address}:{SRT_PORT}?mode=listener&latency={LATENCY_MS}"
        self.faults = faults
        self.pps = mbps * 1e6 / PAYLOAD_BITS
        self.mbps = mbps
        self._t: float | None = None
        self.received = self.lost = self.retransmitted = self.dropped = 0.0
        self.reconnects = 0
        self.rtt_max: float | None = None
        self._down = False
        faults.on_change(self._changed)  # a down device answers no status: note it here

    def _changed(self) -> None:
        if self.faults.get(self.device).down:
            self._down = True

    def status(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        f = self.faults.get(self.device)
        dt = 0.0 if self._t is None else max(0.0, now - self._t)
        self._t = now
        if f.down:
            self._down = True
            return {"state": "disconnected", "url": self.url, "rtt_ms": None,
                    "rtt_ms_max": self.rtt_max, "receive_rate_bps": 0.0, "send_rate_bps": 0.0,
                    "receive_buffer_ms": None, "latency_ms": LATENCY_MS, **self._counts()}
        if self._down:
            self._down = False
            self.reconnects += 1
        rtt = RTT_BASE_MS + 2 * f.latency_ms
        self.rtt_max = max(self.rtt_max or 0.0, rtt)
        p = f.loss_ratio
        sent = self.pps * dt
        lost = sent * p
        rounds = int(LATENCY_MS // rtt)
        dropped = min(lost, sent * p ** (rounds + 1)) if p > 0 else 0.0
        self.lost += lost
        self.dropped += dropped
        self.retransmitted += (lost - dropped) * (1 + p)
        self.received += sent - dropped
        return {"state": "connected", "url": self.url, "rtt_ms": rtt, "rtt_ms_max": self.rtt_max,
                "bandwidth_bps": 100e6, "receive_rate_bps": 0.0,
                "send_rate_bps": self.mbps * 1e6 * (1 + p),
                "receive_buffer_ms": max(0.0, LATENCY_MS - rtt / 2), "latency_ms": LATENCY_MS,
                "flow_window": 8192, **self._counts()}

    def _counts(self) -> dict[str, Any]:
        return {"packets_received": int(self.received), "packets_lost": int(self.lost),
                "packets_retransmitted": int(self.retransmitted),
                "packets_dropped": int(self.dropped), "packets_belated": 0,
                "reconnects": self.reconnects, "encrypted": False}
