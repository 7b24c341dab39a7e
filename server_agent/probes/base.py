"""What every prober shares: the probe spec, the callback shape and the error tree.

    ProbeError
     └── ProbeUnavailable   this kind of probe cannot run on this host (e.g. no CAP_NET_RAW)

A prober sends one probe and calls ``done(rtt_s, reason)`` exactly once, later, on the event
loop: ``rtt_s`` is the round-trip time in seconds, or ``None`` when the probe is lost, with
``reason`` saying why in words (``"no answer within 0.9 s"``, ``"connection refused"``). No
task per probe: replies arrive through one ``add_reader`` per shared socket and time-outs are
``call_later`` handles.

The RTT must not contain the agent's own scheduling delay (a busy host would otherwise look
like slow devices): shared sockets ask the kernel for a receive timestamp (``SO_TIMESTAMPNS``,
read from ``recvmsg``'s ancillary data) and the RTT is that stamp minus the wall-clock time
taken immediately before ``sendto``, so a reply that waited in the socket while the loop was
busy still measures what the network took.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

ProbeKind = Literal["icmp", "tcp", "udp"]
Done = Callable[[float | None, str | None], None]

ICMP_HINT = (
    "ICMP needs CAP_NET_RAW; the systemd unit grants it; use tcp:/udp: probes otherwise"
)


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # asm-generic/socket.h (Linux)
_TIMESPEC = struct.Struct("@qq")  # struct timespec on 64-bit Linux: tv_sec, tv_nsec
ANC_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)


def enable_rx_timestamps(sock: socket.socket) -> bool:
    """Ask the kernel to stamp every datagram it receives; False where it cannot."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def rx_timestamp(ancdata: list[tuple[int, int, bytes]]) -> float | None:
    """The kernel's receive time (wall clock, seconds) from ``recvmsg`` ancillary data.

    Linux switches stamping on host-wide in deferred work after the first socket asks, so a
    datagram that arrives before that runs is stamped when it is read: an agent's very first
    probes can carry its wake-up time, and are held like any other starved sample."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            if sec == 0 and nsec == 0:
                return None
            return float(sec + nsec * 1e-9)
    return None


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


TIMEOUT_REASONS = ("no answer", "no echo")  # how the probers word a time-out


def timed_out(reason: str) -> bool:
    """The probe got no answer in time (as opposed to a refusal or an ICMP error)."""
    return reason.startswith(TIMEOUT_REASONS)


def is_ipv4(address: str) -> bool:
    """For addresses the config validated already: a cheap test, no parsing per probe."""
    return ":" not in address


def fail_soon(loop: asyncio.AbstractEventLoop, done: Done, reason: str) -> None:
    """Report a probe lost without calling back re-entrantly from ``probe()``."""
    loop.call_soon(done, None, reason)


def send_clock() -> tuple[float, float]:
    """Read immediately before ``sendto``: (wall clock for kernel stamps, monotonic)."""
    return time.time(), time.perf_counter()


def rtt_from(t0: tuple[float, float], rx: float | None) -> float:
    """The RTT from the send clocks and the kernel's receive stamp (wall clock). Without a
    stamp, or when the wall clock stepped in between (the stamp is then impossible: before
    the send, or later than now), the monotonic time until now."""
    elapsed = time.perf_counter() - t0[1]
    if rx is None:
        return elapsed
    rtt = rx - t0[0]
    return rtt if 0.0 <= rtt <= elapsed + 1e-3 else elapsed


@dataclass(slots=True)
class Pending:
    target: object  # where the reply must come from
    t0: tuple[float, float]  # send_clock()
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
        self.kernel_stamps = False

    def _attach(self, sock: socket.socket) -> None:
        assert self._loop is not None
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        self.kernel_stamps = enable_rx_timestamps(sock)
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

    def _track(self, seq: int, target: object, t0: tuple[float, float], done: Done,
               timeout: float) -> None:
        assert self._loop is not None
        timer = self._loop.call_later(timeout, self._expire, seq, timeout)
        self._pending[seq] = Pending(target, t0, done, timer)

    def _expire(self, seq: int, timeout: float) -> None:
        p = self._pending.pop(seq, None)
        if p is not None:
            p.done(None, self.lost.format(timeout=timeout))

    def _settle(self, seq: int, rx: float | None, reason: str | None) -> None:
        """End probe ``seq``: answered at ``rx`` (kernel stamp, wall clock; ``None``: no
        stamp) when ``reason`` is None, else lost for ``reason``."""
        p = self._pending.pop(seq)
        p.timer.cancel()
        p.done(None if reason is not None else rtt_from(p.t0, rx), reason)

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(256):  # bounded: leave the loop to others under a flood
            try:
                data, anc, _, src = sock.recvmsg(2048, ANC_SPACE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                continue  # an ICMP error queued on the socket: the probe will time out
            self._packet(data, src, rx_timestamp(anc))

    def _packet(self, data: bytes, src: tuple[str, int], rx: float | None) -> None:
        """``rx``: the kernel's receive stamp (wall clock), ``None`` when there is none."""
        raise NotImplementedError
