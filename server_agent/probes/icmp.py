"""ICMP echo over ONE shared socket for every target, replies matched by identifier/sequence.

Raw first (``SOCK_RAW``: root or ``CAP_NET_RAW``, what the systemd unit grants), then the
unprivileged datagram ICMP socket (``SOCK_DGRAM``, allowed by ``net.ipv4.ping_group_range``).
When neither opens, :meth:`IcmpProber.open` raises :class:`ProbeUnavailable` with a hint, and
the probe service shows that text as the probe's ``error`` instead of crashing.

A raw socket sees every ICMP packet of the host: ``ICMP_FILTER`` keeps only echo replies and
the two errors (destination unreachable, time exceeded) that can end a probe early, a socket
filter (classic BPF, :func:`ident_filter`) drops the echo replies of anyone else's pings in the
kernel, and replies are matched by our random identifier, sequence, source address and payload
nonce. Without that filter another prober's or a sweep's replies fill the socket while the
agent is starved, and its own replies are read too late, or dropped: counted lost.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import struct
import time

from server_agent.probes.base import (
    ICMP_HINT,
    Done,
    ProbeUnavailable,
    SharedSocketProber,
    fail_soon,
    is_ipv4,
    send_clock,
)

ECHO_REPLY, DEST_UNREACH, ECHO_REQUEST, TIME_EXCEEDED = 0, 3, 8, 11
_SOL_RAW, _ICMP_FILTER = 255, 1  # linux/icmp.h
_HDR = struct.Struct("!BBHHH")
_SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)  # asm-generic/socket.h
_BPF = struct.Struct("HBBI")  # struct sock_filter: code, jt, jf, k
_ERRORS = {DEST_UNREACH: "destination unreachable", TIME_EXCEEDED: "time to live exceeded"}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ident_filter(ident: int) -> bytes:
    """Classic BPF for a raw IPv4 ICMP socket: echo replies only with our identifier; other
    types (the errors ``ICMP_FILTER`` lets through) pass to the strict matching."""
    prog = [
        (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)   X = IP header length
        (0x50, 0, 0, 0),  # ldb [x+0]          A = ICMP type
        (0x15, 0, 2, ECHO_REPLY),  # jeq #0, next, accept
        (0x48, 0, 0, 4),  # ldh [x+4]          A = identifier
        (0x15, 0, 1, ident),  # jeq #ident, accept, drop
        (0x06, 0, 0, 0xFFFF),  # accept
        (0x06, 0, 0, 0),  # drop
    ]
    return b"".join(_BPF.pack(*ins) for ins in prog)


def attach_filter(sock: socket.socket, program: bytes) -> bool:
    """SO_ATTACH_FILTER (struct sock_fprog: length, pointer); False where it cannot."""
    buf = ctypes.create_string_buffer(program)
    fprog = struct.pack("HL", len(program) // _BPF.size, ctypes.addressof(buf))
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)
    except OSError:
        return False
    return True


def echo_request(ident: int, seq: int, payload: bytes) -> bytes:
    head = _HDR.pack(ECHO_REQUEST, 0, 0, ident, seq)
    return _HDR.pack(ECHO_REQUEST, 0, checksum(head + payload), ident, seq) + payload


class IcmpProber(SharedSocketProber):
    def __init__(self) -> None:
        super().__init__()
        self.raw = False
        self.ident = int.from_bytes(os.urandom(2), "big")
        self._nonce = os.urandom(8)
        self._seq = int.from_bytes(os.urandom(2), "big")

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
        if self.raw:
            keep = (1 << ECHO_REPLY) | (1 << DEST_UNREACH) | (1 << TIME_EXCEEDED)
            try:
                sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~keep & 0xFFFFFFFF))
            except OSError:
                pass  # only a filter for efficiency; matching below stays strict
            attach_filter(sock, ident_filter(self.ident))
        self._attach(sock)

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
        t0 = send_clock()
        try:
            sock.sendto(packet, (address, 0))
        except OSError as exc:
            fail_soon(loop, done, f"cannot send: {exc.strerror or exc}")
            return
        self._track(seq, address, t0, done, timeout)

    def _packet(self, data: bytes, src: tuple[str, int], rx: float | None) -> None:
        self._handle(data, src[0], rx)

    def _handle(self, data: bytes, src: str, rx: float | None) -> None:
        icmp = data[(data[0] & 0x0F) * 4:] if self.raw and data else data
        if len(icmp) < 8:
            return
        kind = icmp[0]
        if kind == ECHO_REPLY:
            ident, seq = struct.unpack_from("!HH", icmp, 4)
            if self.raw and ident != self.ident:
                return
            p = self._pending.get(seq)
            if p is None or p.target != src or icmp[8:16] != self._nonce:
                return
            self._settle(seq, rx, None)
        elif kind in _ERRORS and self.raw:
            inner = icmp[8:]
            if len(inner) < 20:
                return
            orig = inner[(inner[0] & 0x0F) * 4:]
            if len(orig) < 8 or orig[0] != ECHO_REQUEST:
                return
            ident, seq = struct.unpack_from("!HH", orig, 4)
            p = self._pending.get(seq)
            if ident != self.ident or p is None or socket.inet_ntoa(inner[16:20]) != p.target:
                return
            self._settle(seq, rx, f"{_ERRORS[kind]} (reported by {src})")
