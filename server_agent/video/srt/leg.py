"""An ``srt://`` leg of a stream: what the receiver and the streams service see of it.

    monitor  one SrtConnection receiving; its payload goes to the TS analysis
    relay    the same, and every message is forwarded to a second (sending) connection;
             both are measured (``figures[0]`` in, ``figures[1]`` out)
    device   no socket: a DevicePoller reads the device's own figures

It has the shape of :class:`~server_agent.video.udp.receiver.Leg` (``url``, ``stats``,
``joined_at``, ``join_ms``, ``drain``, ``close``) so the receiver and the analysis treat it
like a UDP leg; it has no file descriptor, so the receiver drains it on every tick.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from server_agent.contract import SrtLegStats
from server_agent.video.srt import lib
from server_agent.video.srt.conn import Endpoint, SrtConnection
from server_agent.video.srt.device import DRIVERS, DevicePoller
from server_agent.video.srt.errors import SrtSecretMissing
from server_agent.video.srt.stats import SrtFigures
from server_agent.video.srt.url import SrtUrl
from server_agent.video.udp.flow import FlowStats

SecretLookup = Callable[[str], str | None]


def resolve_passphrase(url: SrtUrl, secrets: SecretLookup | None) -> str | None:
    if url.passphrase_ref is None:
        return None
    value = secrets(url.passphrase_ref) if secrets is not None else None
    if not value:
        raise SrtSecretMissing(
            f"passphrase_ref={url.passphrase_ref!r} names no secret in the agent's credential "
            "store; add it there (state_dir/credentials.json) or remove passphrase_ref")
    if not 10 <= len(value) <= 79:
        raise SrtSecretMissing(f"the secret {url.passphrase_ref!r} must be 10 to 79 "
                               "characters long to be an SRT passphrase")
    return value


class SrtLeg:

    def __init__(self, url: SrtUrl, secrets: SecretLookup | None = None) -> None:
        self.url = url
        self.stats = FlowStats(False)
        self.joined_at = time.time()
        self.join_ms: float | None = None
        self.conn: SrtConnection | None = None
        self.out: SrtConnection | None = None
        self.device: DevicePoller | None = None
        self._pending: list[tuple[float, bytes]] = []
        self.received_bytes = self.forwarded_bytes = 0  # payload in / passed on (relay)
        self._lock = threading.Lock()
        if url.stats == "device":
            assert url.api is not None
            self.device = DevicePoller(DRIVERS[url.driver](url.api))
            self.figures: list[SrtFigures] = []
            return
        srt = lib.load()
        pw = resolve_passphrase(url, secrets)
        self.figures = [SrtFigures("relay" if url.relay is not None else "monitor")]
        self.conn = SrtConnection(srt, Endpoint(url.address, url.port, url.mode,
                                                url.latency_ms, pw), self._data)
        if url.relay is not None:
            self.figures.append(SrtFigures("relay"))
            try:
                self.out = SrtConnection(srt, Endpoint(url.relay.host, url.relay.port,
                                                       url.relay_mode, url.latency_ms, pw,
                                                       sender=True))
            except BaseException:
                self.conn.close()
                raise

    def start(self) -> None:
        for c in (self.conn, self.out, self.device):
            if c is not None:
                c.start()

    def close(self) -> None:
        for c in (self.conn, self.out, self.device):
            if c is not None:
                c.close()

    def _data(self, data: bytes, t: float) -> None:  # the connection's thread
        self.received_bytes += len(data)
        if self.out is not None and self.out.send(data):
            self.forwarded_bytes += len(data)
        with self._lock:
            self._pending.append((t, data))

    def drain(self) -> list[tuple[int | None, float, bytes]]:
        with self._lock:
            items, self._pending = self._pending, []
        for t, data in items:
            if self.join_ms is None:
                self.join_ms = max(0.0, (t - self.joined_at) * 1000)
            self.stats.datagram(t, len(data), None)
        return [(None, t, d) for t, d in items]

    def sample(self, now: float) -> None:
        """Read libsrt's statistics (the 10 Hz tick is their one reader)."""
        for fig, c in zip(self.figures, (self.conn, self.out), strict=False):
            if c is None:
                continue
            fig.add(c.snapshots(), c.state, now)
            fig.reconnects = c.reconnects
            fig.encrypted = c.encrypted

    @property
    def connected(self) -> bool:
        return self.status()[0].state == "connected"

    @property
    def error(self) -> str | None:
        if self.device is not None:
            return self.device.error
        return self.conn.error if self.conn is not None else None

    def status(self) -> list[SrtLegStats]:
        """The leg's figures: one entry, two for a relay (incoming, outgoing)."""
        if self.device is not None:
            return [self.device.latest]
        return [f.status() for f in self.figures]
