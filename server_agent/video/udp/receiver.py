"""One stream's receiver: one or two legs (sockets) -> per-leg flow figures, the ST 2022-7
merge for two RTP legs, and the TS analysis of the (merged) payload.

Sockets are read on the event loop (``add_reader``) without blocking: each readable event
drains the socket with ``recvmsg``, taking the DSCP (IP_RECVTOS) and the kernel's arrival
time (SO_TIMESTAMPNS) from the ancillary data. The TS analysis runs on :meth:`tick` (10 Hz)
over what arrived since the last tick. ``srt://`` legs (:class:`~server_agent.video.srt.leg.
SrtLeg`) receive on their own thread; the tick drains them and reads their SRT statistics.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import TYPE_CHECKING

from server_agent.video.ts import Tr101290Settings, TsAnalyzer
from server_agent.video.udp.dual import DualPath
from server_agent.video.udp.flow import FlowStats
from server_agent.video.udp.rtp import rtp_payload
from server_agent.video.udp.sock import open_socket
from server_agent.video.udp.url import StreamUrl

if TYPE_CHECKING:
    from server_agent.video.srt.leg import SecretLookup, SrtLeg
    from server_agent.video.srt.url import SrtUrl

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_ANC = socket.CMSG_SPACE(4) + socket.CMSG_SPACE(16)
_MAX_DATAGRAM = 65536


class Leg:
    def __init__(self, url: StreamUrl, expected_dscp: int | None) -> None:
        self.url = url
        self.sock = open_socket(url)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.stats = FlowStats(url.rtp, expected_dscp)
        self.joined_at = time.time()
        self.join_ms: float | None = None
        self.not_rtp = 0

    def close(self) -> None:
        self.sock.close()

    def drain(self) -> list[tuple[int | None, float, bytes]]:
        """(RTP sequence or None, arrival time, TS payload) of every waiting datagram."""
        out: list[tuple[int | None, float, bytes]] = []
        st = self.stats
        rtp = self.url.rtp
        while True:
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(_MAX_DATAGRAM, _ANC)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            tos: int | None = None
            t: float | None = None
            for level, kind, raw in anc:
                if level == socket.IPPROTO_IP and kind == socket.IP_TOS and raw:
                    tos = raw[0]
                elif level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    t = sec + nsec * 1e-9
            if t is None:
                t = time.time()
            if self.join_ms is None:
                self.join_ms = max(0.0, (t - self.joined_at) * 1000)
            st.datagram(t, len(data), tos)
            if rtp:
                parsed = rtp_payload(data)
                if parsed is None:
                    self.not_rtp += 1
                    continue
                seq, payload = parsed
                if st.seq.add(seq) is None:
                    continue  # duplicate
                out.append((seq, t, payload))
            else:
                out.append((None, t, data))
        return out


class StreamReceiver:
    def __init__(self, urls: list[StreamUrl | SrtUrl], *, expected_dscp: int | None = None,
                 buffer_ms: float = 50.0, settings: Tr101290Settings | None = None,
                 secrets: SecretLookup | None = None) -> None:
        self.legs: list[Leg | SrtLeg] = []
        try:
            for u in urls:
                if isinstance(u, StreamUrl):
                    self.legs.append(Leg(u, expected_dscp))
                else:
                    from server_agent.video.srt.leg import SrtLeg

                    self.legs.append(SrtLeg(u, secrets))
        except BaseException:
            self.close()
            raise
        self.dual = DualPath(buffer_ms / 1000) if len(urls) == 2 and all(
            u.rtp for u in urls) else None
        self.analyzer = TsAnalyzer(settings)
        self._pending: list[bytes] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_interval = time.time()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for i, leg in enumerate(self.legs):
            if isinstance(leg, Leg):
                loop.add_reader(leg.sock.fileno(), self._readable, i)
            else:
                leg.start()

    def close(self) -> None:
        for leg in self.legs:
            if self._loop is not None and isinstance(leg, Leg):
                try:
                    self._loop.remove_reader(leg.sock.fileno())
                except (ValueError, OSError):
                    pass
            leg.close()
        self._loop = None

    def _readable(self, i: int) -> None:
        self.read_leg(i)

    def read_leg(self, i: int) -> None:
        items = self.legs[i].drain()
        if self.dual is not None:
            for seq, t, payload in items:
                assert seq is not None
                self.dual.add(i, seq, t, payload)
        elif i == 0 or len(self.legs) == 1:
            self._pending.extend(p for _, _, p in items)

    def tick(self, now: float | None = None) -> None:
        """Analyse what arrived; close the 1 s flow interval when it is due."""
        now = time.time() if now is None else now
        for i, leg in enumerate(self.legs):
            if not isinstance(leg, Leg):
                self.read_leg(i)
                leg.sample(now)
        if self.dual is not None:
            self._pending.extend(self.dual.release(now))
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self.analyzer.feed(data, now)
        if now - self._last_interval >= 1.0:
            for leg in self.legs:
                leg.stats.close_interval(now)
            self._last_interval = now

    @property
    def datagrams(self) -> int:
        return sum(leg.stats.datagrams for leg in self.legs)
