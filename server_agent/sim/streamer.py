"""Paced UDP senders for the simulated encoders' MPEG-TS streams.

One task ticks every 10 ms and, for each stream, sends the datagrams due by then at the mux
rate (CBR: byte position / rate), so pacing does not drift with timer jitter. The task runs
until it is cancelled (the segment's ``stop``). Traffic goes from the encoder's loopback
address to the stream's loopback target; a ``down`` encoder, loss and TS errors apply here,
and so do ``down`` and loss of the switch, router and link on the stream's path.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from server_agent.sim.faults import FaultBook
from server_agent.sim.model import SimStreamSpec
from server_agent.sim.ts import PACKETS_PER_DATAGRAM, TS, Clip, Replayer, TsErrorInjector

log = logging.getLogger("flypack.sim.streamer")

TICK_S = 0.01
MAX_BURST = 64  # datagrams per tick; beyond that the schedule slips instead of bursting
DATAGRAM = PACKETS_PER_DATAGRAM * TS


@dataclass
class StreamSender:
    spec: SimStreamSpec
    source: str
    clip: Clip
    mbps: float
    faults: FaultBook
    replayer: Replayer = field(init=False)
    injector: TsErrorInjector = field(default_factory=TsErrorInjector)
    sock: socket.socket | None = None
    datagrams: int = 0
    bytes_sent: int = 0
    datagrams_lost: int = 0
    _origin: float = 0.0
    _produced: int = 0
    _rate_mark: tuple[float, int] = (0.0, 0)
    bitrate_bps: float = 0.0

    def __post_init__(self) -> None:
        self.replayer = Replayer(self.clip)

    @property
    def rate_bytes(self) -> float:
        return self.mbps * 1_000_000 / 8

    def open(self, now: float) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind((self.source, 0))
        self.sock = s
        self._origin = now
        self._rate_mark = (now, 0)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def pump(self, now: float, dt: float) -> None:
        due = int((now - self._origin) * self.rate_bytes / DATAGRAM) - self._produced
        if due > MAX_BURST:
            self._origin += (due - MAX_BURST) * DATAGRAM / self.rate_bytes
            due = MAX_BURST
        if due <= 0:
            return
        fault = self.faults.get(self.spec.device)
        inj = self.injector
        inj.drop_per_s, inj.tei_per_s = fault.ts_errors.drop_per_s, fault.ts_errors.tei_per_s
        dest = (self.spec.address, self.spec.port)
        for _ in range(due):
            buf = self.replayer.next_datagram()
            self._produced += 1
            buf = inj.apply(buf, dt / due)
            lost = any(self.faults.lost(d) for d in self.spec.carriers)
            if lost or not buf or self.sock is None:
                self.datagrams_lost += 1
                continue
            try:
                self.sock.sendto(buf, dest)
            except OSError:
                self.datagrams_lost += 1
                continue
            self.datagrams += 1
            self.bytes_sent += len(buf)
        t0, b0 = self._rate_mark
        if now - t0 >= 1.0:
            self.bitrate_bps = (self.bytes_sent - b0) * 8 / (now - t0)
            self._rate_mark = (now, self.bytes_sent)

    def status(self) -> dict[str, Any]:
        fault = self.faults.get(self.spec.device)
        return {
            "state": "stopped" if fault.down else "streaming",
            "url": f"udp://{self.spec.address}:{self.spec.port}",
            "stream_id": self.spec.id,
            "mux_rate_bps": int(self.mbps * 1_000_000),
            "bitrate_bps": round(self.bitrate_bps),
            "datagrams_sent": self.datagrams,
            "bytes_sent": self.bytes_sent,
            "datagrams_lost": self.datagrams_lost,
            "ts_packets_dropped": self.injector.dropped,
            "ts_packets_corrupted": self.injector.corrupted,
            "loops": self.replayer.loop,
        }


async def run_senders(senders: list[StreamSender], duration_s: float | None = None) -> None:
    """Send until cancelled (or for ``duration_s``); sockets are closed on the way out."""
    loop = asyncio.get_running_loop()
    start = last = loop.time()
    for s in senders:
        s.open(start)
    try:
        while duration_s is None or loop.time() - start < duration_s:
            await asyncio.sleep(TICK_S)
            now = loop.time()
            for s in senders:
                s.pump(now, now - last)
            last = now
    finally:
        for s in senders:
            s.close()
        log.debug("stream senders stopped at %s", time.time())
