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
