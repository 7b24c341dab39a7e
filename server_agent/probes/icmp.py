"""ICMP echo over ONE shared socket for every target, replies matched by identifier/sequence.

Raw first (``SOCK_RAW``: root or ``CAP_NET_RAW``, what the systemd unit grants), then the
unprivileged datagram ICMP socket (``SOCK_DGRAM``, allowed by ``net.ipv4.ping_group_range``).
When neither opens, :meth:`IcmpProber.open` raises :class:`ProbeUnavailable` with a hint, and
the probe service shows that text as the probe's ``error`` instead of crashing.

A raw socket sees every ICMP packet of the host: ``ICMP_FILTER`` keeps only echo replies and
the two errors (destination unreachable, time exceeded) that can end a probe early, and replies
are matched by our random identifier, sequence, source address and payload nonce.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
import time
from dataclasses import dataclass

from server_agent.probes.base import ICMP_HINT, Done, ProbeUnavailable, fail_soon, is_ipv4

ECHO_REPLY, DEST_UNREACH, ECHO_REQUEST, TIME_EXCEEDED = 0, 3, 8, 11
_SOL_RAW, _ICMP_FILTER = 255, 1  # linux/icmp.h
_HDR = struct.Struct("!BBHHH")
_ERRORS = {DEST_UNREACH: "destination unreachable", TIME_EXCEEDED: "time to live exceeded"}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, payload: bytes) -> bytes:
    head = _HDR.pack(ECHO_REQUEST, 0, 0, ident, seq)
    return _HDR.pack(ECHO_REQUEST, 0, checksum(head + payload), ident, seq) + payload


@dataclass(slots=True)
class _Pending:
    address: str
    t0: float
    done: Done
    timer: asyncio.TimerHandle


class IcmpProber:
    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.raw = False
        self.ident = int.from_bytes(os.urandom(2), "big")
        self._nonce = os.urandom(8)
        self._seq = int.from_bytes(os.urandom(2), "big")
        self._pending: dict[int, _Pending] = {}

    def open(self) -> None:
        if self._sock is not None:
            return
        self._loop = asyncio.get_running_loop()
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            self.raw = True
        except OSError:
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
                self.raw = False
            except OSError as exc:
                raise ProbeUnavailable(f"{ICMP_HINT} ({exc.strerror})") from None
        sock.setblocking(False)
        if self.raw:
            keep = (1 << ECHO_REPLY) | (1 << DEST_UNREACH) | (1 << TIME_EXCEEDED)
            try:
                sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~keep & 0xFFFFFFFF))
            except OSError:
                pass  # only a filter for efficiency; matching below stays strict
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        self._sock = sock
        self._loop.add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        for p in self._pending.values():
            p.timer.cancel()
        self._pending.clear()
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _next_seq(self) -> int:
        for _ in range(0x10000):
            self._seq = (self._seq + 1) & 0xFFFF
            if self._seq not in self._pending:
                return self._seq
        raise RuntimeError("65536 ICMP probes in flight")

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop, sock = self._loop, self._sock
        if loop is None or sock is None:
            raise RuntimeError("IcmpProber.open() was not called")
        if not is_ipv4(address):
            fail_soon(loop, done, "ICMPv6 is not supported yet; use a tcp: or udp: probe")
            return
        seq = self._next_seq()
        packet = echo_request(self.ident, seq, self._nonce + struct.pack("!d", time.time()))
        t0 = time.perf_counter()
        try:
            sock.sendto(packet, (address, 0))
        except OSError as exc:
            fail_soon(loop, done, f"cannot send: {exc.strerror or exc}")
            return
        timer = loop.call_later(timeout, self._expire, seq, timeout)
        self._pending[seq] = _Pending(address, t0, done, timer)

    def _expire(self, seq: int, timeout: float) -> None:
        p = self._pending.pop(seq, None)
        if p is not None:
            p.done(None, f"no answer within {timeout:g} s")

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(256):  # bounded: leave the loop to others under a flood
            try:
                data, (src, _port) = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                continue  # an ICMP error queued on the socket: not ours to report
            self._handle(data, src, time.perf_counter())

    def _handle(self, data: bytes, src: str, now: float) -> None:
        icmp = data[(data[0] & 0x0F) * 4:] if self.raw and data else data
        if len(icmp) < 8:
            return
        kind = icmp[0]
        if kind == ECHO_REPLY:
            ident, seq = struct.unpack_from("!HH", icmp, 4)
            if self.raw and ident != self.ident:
                return
            p = self._pending.get(seq)
            if p is None or p.address != src or icmp[8:16] != self._nonce:
                return
            del self._pending[seq]
            p.timer.cancel()
            p.done(now - p.t0, None)
        elif kind in _ERRORS and self.raw:
            inner = icmp[8:]
            if len(inner) < 20:
                return
            orig = inner[(inner[0] & 0x0F) * 4:]
            if len(orig) < 8 or orig[0] != ECHO_REQUEST:
                return
            ident, seq = struct.unpack_from("!HH", orig, 4)
            p = self._pending.get(seq)
            if ident != self.ident or p is None or socket.inet_ntoa(inner[16:20]) != p.address:
                return
            del self._pending[seq]
            p.timer.cancel()
            p.done(None, f"{_ERRORS[kind]} (reported by {src})")
