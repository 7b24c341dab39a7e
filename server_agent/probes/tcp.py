"""TCP connect probe: the round-trip time is the time the three-way handshake takes.

A probe to a named port is *up only when the connect succeeds*: a refused connection (RST)
proves the host is alive but the service the probe names is not, so it counts as lost, with
the reason "connection refused" (use an ``icmp`` probe for "is the host there at all").

One non-blocking socket per probe, watched with ``add_writer`` (no task, no thread); it is
closed as soon as the handshake ends, so no data is ever sent.

The RTT is the kernel's own measurement of the handshake (``TCP_INFO``'s ``tcpi_rtt``: SYN
sent to SYN-ACK received, in microseconds), not the wall time until the loop noticed the
connect: a busy agent must not look like a slow device. Where ``TCP_INFO`` is unavailable the
monotonic time from ``connect`` to the writable callback is the fallback.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
import time

from server_agent.probes.base import Done, fail_soon, is_ipv4

# struct tcp_info (linux/tcp.h): 8 bytes of u8 fields, then u32s; tcpi_rtt is the 16th u32
_TCPI_RTT = struct.Struct("@I")
_TCPI_RTT_OFFSET = 8 + 15 * 4
_TCPI_LEN = _TCPI_RTT_OFFSET + 4


def kernel_rtt(sock: socket.socket) -> float | None:
    """The kernel's smoothed RTT of a connected TCP socket in seconds (after the handshake:
    the SYN/SYN-ACK round trip), ``None`` when the kernel does not say."""
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, _TCPI_LEN)
    except OSError:
        return None
    if len(info) < _TCPI_LEN:
        return None
    (us,) = _TCPI_RTT.unpack_from(info, _TCPI_RTT_OFFSET)
    return us / 1e6 if us > 0 else None


class TcpConnectProber:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, tuple[socket.socket, asyncio.TimerHandle]] = {}

    def open(self) -> None:
        self._loop = asyncio.get_running_loop()

    def close(self) -> None:
        for fd, (sock, timer) in list(self._pending.items()):
            timer.cancel()
            self._drop(fd, sock)
        self._pending.clear()

    def _drop(self, fd: int, sock: socket.socket) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_writer(fd)
        sock.close()

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("TcpConnectProber.open() was not called")
        family = socket.AF_INET if is_ipv4(address) else socket.AF_INET6
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            fail_soon(loop, done, f"cannot open a socket: {exc.strerror or exc}")
            return
        sock.setblocking(False)
        t0 = time.perf_counter()
        err = sock.connect_ex((address, port))
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            sock.close()
            fail_soon(loop, done, _reason(err))
            return
        fd = sock.fileno()
        timer = loop.call_later(timeout, self._expire, fd, timeout, done)
        self._pending[fd] = (sock, timer)
        loop.add_writer(fd, self._writable, fd, t0, done)

    def _writable(self, fd: int, t0: float, done: Done) -> None:
        now = time.perf_counter()
        entry = self._pending.pop(fd, None)
        if entry is None:
            return
        sock, timer = entry
        timer.cancel()
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        rtt = kernel_rtt(sock) if err == 0 else None
        self._drop(fd, sock)
        if err == 0:
            done(now - t0 if rtt is None else rtt, None)
        else:
            done(None, _reason(err))

    def _expire(self, fd: int, timeout: float, done: Done) -> None:
        entry = self._pending.pop(fd, None)
        if entry is not None:
            self._drop(fd, entry[0])
            done(None, f"no answer to the connect within {timeout:g} s")


def _reason(err: int) -> str:
    if err == errno.ECONNREFUSED:
        return "connection refused (the host answers, the port is closed)"
    return os.strerror(err).lower()
