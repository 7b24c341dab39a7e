"""UDP echo probe (RFC 862 style) over one shared socket for every target.

Each probe is one datagram ``FPK1 | sequence (u32) | nonce (8 bytes)``; the target echoes it
back unchanged. A reply counts only when it comes from the address and port probed and carries
our sequence and nonce; no reply within the time-out means the probe is lost. The socket is
unconnected, so a port-unreachable answer is not seen: it also ends as a time-out.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct

from server_agent.probes.base import Done, SharedSocketProber, fail_soon, is_ipv4, send_clock

MAGIC = b"FPK1"
_PAYLOAD = struct.Struct("!4sI8s")


class UdpEchoProber(SharedSocketProber):
    lost = "no echo within {timeout:g} s"

    def __init__(self) -> None:
        super().__init__()
        self._nonce = os.urandom(8)
        self._seq = 0

    def open(self) -> None:
        if self._sock is not None:
            return
        self._loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", 0))
        self._attach(sock)

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop, sock = self._loop, self._sock
        if loop is None or sock is None:
            raise RuntimeError("UdpEchoProber.open() was not called")
        if not is_ipv4(address):
            fail_soon(loop, done, "UDP echo over IPv6 is not supported yet; use a tcp: probe")
            return
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        seq = self._seq
        payload = _PAYLOAD.pack(MAGIC, seq, self._nonce)
        t0 = send_clock()
        try:
            sock.sendto(payload, (address, port))
        except OSError as exc:
            fail_soon(loop, done, f"cannot send: {exc.strerror or exc}")
            return
        self._track(seq, (address, port), t0, done, timeout)

    def _packet(self, data: bytes, src: tuple[str, int], rx: float | None) -> None:
        if len(data) != _PAYLOAD.size:
            return
        magic, seq, nonce = _PAYLOAD.unpack(data)
        p = self._pending.get(seq)
        if p is None or magic != MAGIC or nonce != self._nonce or p.target != src[:2]:
            return
        self._settle(seq, rx, None)
