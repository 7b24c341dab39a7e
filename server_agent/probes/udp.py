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
import time
from dataclasses import dataclass

from server_agent.probes.base import Done, fail_soon, is_ipv4

MAGIC = b"FPK1"
_PAYLOAD = struct.Struct("!4sI8s")


@dataclass(slots=True)
class _Pending:
    target: tuple[str, int]
    t0: float
    done: Done
    timer: asyncio.TimerHandle


class UdpEchoProber:
    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nonce = os.urandom(8)
        self._seq = 0
        self._pending: dict[int, _Pending] = {}

    def open(self) -> None:
        if self._sock is not None:
            return
        self._loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        sock.bind(("0.0.0.0", 0))
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

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop, sock = self._loop, self._sock
        if loop is None or sock is None:
            raise RuntimeError("UdpEchoProber.open() was not called")
        if not is_ipv4(address):
            fail_soon(loop, done, "UDP echo over IPv6 is not supported yet; use a tcp: probe")
            return
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        seq = self._seq
        t0 = time.perf_counter()
        try:
            sock.sendto(_PAYLOAD.pack(MAGIC, seq, self._nonce), (address, port))
        except OSError as exc:
            fail_soon(loop, done, f"cannot send: {exc.strerror or exc}")
            return
        timer = loop.call_later(timeout, self._expire, seq, timeout)
        self._pending[seq] = _Pending((address, port), t0, done, timer)

    def _expire(self, seq: int, timeout: float) -> None:
        p = self._pending.pop(seq, None)
        if p is not None:
            p.done(None, f"no echo within {timeout:g} s")

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(256):  # bounded: leave the loop to others under a flood
            try:
                data, src = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # e.g. a queued ICMP error; the probe will time out
            now = time.perf_counter()
            if len(data) != _PAYLOAD.size:
                continue
            magic, seq, nonce = _PAYLOAD.unpack(data)
            p = self._pending.get(seq)
            if p is None or magic != MAGIC or nonce != self._nonce or p.target != src[:2]:
                continue
            del self._pending[seq]
            p.timer.cancel()
            p.done(now - p.t0, None)
