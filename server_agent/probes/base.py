"""What every prober shares: the probe spec, the callback shape and the error tree.

    ProbeError
     └── ProbeUnavailable   this kind of probe cannot run on this host (e.g. no CAP_NET_RAW)

A prober sends one probe and calls ``done(rtt_s, reason)`` exactly once, later, on the event
loop: ``rtt_s`` is the round-trip time in seconds, or ``None`` when the probe is lost, with
``reason`` saying why in words (``"no answer within 0.9 s"``, ``"connection refused"``). No
task per probe: replies arrive through one ``add_reader`` per shared socket and time-outs are
``call_later`` handles.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

ProbeKind = Literal["icmp", "tcp", "udp"]
Done = Callable[[float | None, str | None], None]

ICMP_HINT = (
    "ICMP needs CAP_NET_RAW; the systemd unit grants it; use tcp:/udp: probes otherwise"
)


class ProbeError(Exception):
    """Base of the probe errors."""


class ProbeUnavailable(ProbeError):
    """This kind of probe cannot run here; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """A parsed probe string: ``icmp``, ``tcp:PORT`` or ``udp:PORT``."""

    kind: ProbeKind
    port: int = 0

    @classmethod
    def parse(cls, text: str) -> ProbeSpec:
        kind, _, port = text.partition(":")
        if kind == "icmp" and not port:
            return cls("icmp")
        if kind in ("tcp", "udp") and port.isdigit() and 0 < int(port) < 65536:
            return cls(kind, int(port))  # type: ignore[arg-type]
        raise ValueError(f"unknown probe {text!r}: use 'icmp', 'tcp:PORT' or 'udp:PORT'")

    def __str__(self) -> str:
        return self.kind if self.kind == "icmp" else f"{self.kind}:{self.port}"


class Prober(Protocol):
    """One kind of probe for all targets of that kind."""

    def open(self) -> None:
        """Open shared resources; raise :class:`ProbeUnavailable` when that is impossible."""

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        """Send one probe; ``done`` is called exactly once, later, on the event loop."""

    def close(self) -> None:
        """Release shared resources; pending probes are dropped without a callback."""


def is_ipv4(address: str) -> bool:
    """For addresses the config validated already: a cheap test, no parsing per probe."""
    return ":" not in address


def fail_soon(loop: asyncio.AbstractEventLoop, done: Done, reason: str) -> None:
    """Report a probe lost without calling back re-entrantly from ``probe()``."""
    loop.call_soon(done, None, reason)


@dataclass(slots=True)
class Pending:
    target: object  # where the reply must come from
    t0: float
    done: Done
    timer: asyncio.TimerHandle


class SharedSocketProber:
    """One non-blocking socket for every probe of a kind; probes in flight keyed by sequence.

    Subclasses open the socket (then :meth:`_attach`), send with :meth:`_track`, and match
    replies in :meth:`_packet`, settling them with :meth:`_settle`.
    """

    lost = "no answer within {timeout:g} s"

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, Pending] = {}

    def _attach(self, sock: socket.socket) -> None:
        assert self._loop is not None
        sock.setblocking(False)
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

    def _track(self, seq: int, target: object, t0: float, done: Done, timeout: float) -> None:
        assert self._loop is not None
        timer = self._loop.call_later(timeout, self._expire, seq, timeout)
        self._pending[seq] = Pending(target, t0, done, timer)

    def _expire(self, seq: int, timeout: float) -> None:
        p = self._pending.pop(seq, None)
        if p is not None:
            p.done(None, self.lost.format(timeout=timeout))

    def _settle(self, seq: int, rtt: float | None, reason: str | None) -> None:
        p = self._pending.pop(seq)
        p.timer.cancel()
        p.done(rtt, reason)

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(256):  # bounded: leave the loop to others under a flood
            try:
                data, src = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                continue  # an ICMP error queued on the socket: the probe will time out
            self._packet(data, src, time.perf_counter())

    def _packet(self, data: bytes, src: tuple[str, int], now: float) -> None:
        raise NotImplementedError
