"""TCP connect probe: the round-trip time is the time the three-way handshake takes.

A probe to a named port is *up only when the connect succeeds*: a refused connection (RST)
proves the host is alive but the service the probe names is not, so it counts as lost, with
the reason "connection refused" (use an ``icmp`` probe for "is the host there at all").

One non-blocking socket per probe, watched with ``add_writer`` (no task, no thread); it is
closed as soon as the handshake ends, so no data is ever sent.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import time

from server_agent.probes.base import Done, fail_soon, is_ipv4


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
        self._drop(fd, sock)
        if err == 0:
            done(now - t0, None)
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
