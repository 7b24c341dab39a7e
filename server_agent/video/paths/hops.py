"""How healthy one hop is, from one kind of evidence each: the device's probes, the leg's
transport figures (SRT, RTP, plain UDP), the stream's analysis. Pure functions; counters that
must *grow* to count come in as deltas computed by :class:`~.evaluate.PathTracker`.

Each returns a :class:`Verdict` ``(state, reasons)``; state is ``ok``, ``failing`` or
``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from server_agent.contract import Device, DeviceState, StreamLegStatus

State = Literal["ok", "failing", "unknown"]


@dataclass(frozen=True, slots=True)
class Verdict:
    state: State
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LegDeltas:
    """What grew on one leg since the previous evaluation."""

    srt_dropped: int = 0
    srt_lost: int = 0
    rtp_lost: int = 0
    cc_errors: int = 0  # the stream's continuity errors (plain UDP has nothing better)


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """What the agent's analysis of the stream shows now (the stream service fills it)."""

    legs: list[StreamLegStatus]
    active: dict[str, str] = field(default_factory=dict)  # stream alarm rule -> message
    counts: dict[str, int] = field(default_factory=dict)  # TR 101 290 counts since start
    error: str | None = None  # why the stream cannot be received at all


def combine(*parts: Verdict) -> Verdict:
    """Failing if any part fails; ok if some part is ok and none fails; else unknown."""
    reasons = tuple(r for p in parts for r in p.reasons)
    states = {p.state for p in parts}
    if "failing" in states:
        return Verdict("failing", reasons)
    return Verdict("ok" if "ok" in states else "unknown", reasons)


def device_verdict(ref: str, dev: Device | None) -> Verdict:
    if dev is None:
        return Verdict("unknown", (f"no device {ref!r} in the inventory",))
    if dev.state is DeviceState.unknown:
        return Verdict("unknown", (f"{dev.name}: no probe results yet",))
    if dev.state is DeviceState.up:
        return Verdict("ok")
    if dev.state is DeviceState.down:
        probes = ", ".join(p.probe for p in dev.probes if p.up is not None)
        return Verdict("failing", (f"{dev.name} does not answer its probes ({probes})",))
    out = []
    for p in dev.probes:
        loss = p.loss_ratio or 0.0
        if 0 < loss < 1:  # (whether the latest one came back or not)
            out.append(f"{dev.name} loses {loss:.0%} of its {p.probe} probes")
        elif p.up is False:
            out.append(f"{dev.name} does not answer {p.probe}")
    return Verdict("failing", tuple(out) or (f"{dev.name} is degraded",))


def link_verdict(leg_no: int, leg: StreamLegStatus | None, d: LegDeltas,
                 settling: bool) -> Verdict:
    """SRT figures when the leg has them, else RTP sequence numbers, else (plain UDP) the
    stream's continuity errors, which cannot tell loss on the way from a source's drops."""
    if leg is None:
        return Verdict("unknown", (f"leg {leg_no} is not received",))
    srt = leg.srt
    if srt is not None:
        if srt.state != "connected":
            return Verdict("failing", (f"SRT leg {leg_no} is {srt.state}",))
        if d.srt_dropped > 0:
            return Verdict("failing", (f"SRT leg {leg_no}: {d.srt_dropped} packets dropped "
                                       "(arrived too late to play)",))
        if d.srt_lost > 0:
            return Verdict("ok", (f"SRT leg {leg_no}: {d.srt_lost} packets lost and "
                                  "recovered by retransmission",))
        return Verdict("ok")
    if not leg.up:
        if leg.error:
            return Verdict("failing", (f"leg {leg_no} cannot be received: {leg.error}",))
        if settling:
            return Verdict("unknown", (f"leg {leg_no}: waiting for the first datagrams",))
        return Verdict("failing", (f"no datagrams on leg {leg_no}",))
    if leg.rtp_lost is not None:
        if d.rtp_lost > 0:
            return Verdict("failing", (f"{d.rtp_lost} RTP packets lost on leg {leg_no}",))
        return Verdict("ok")
    if d.cc_errors > 0:
        return Verdict("failing", (
            f"{d.cc_errors} continuity errors on leg {leg_no}, which has no RTP or SRT "
            "sequence numbers: datagrams lost on the way, or dropped by the source",))
    return Verdict("ok")


def analysis_verdict(fig: StreamFigures) -> Verdict:
    if fig.error:
        return Verdict("failing", (f"the stream cannot be received: {fig.error}",))
    if fig.active:
        return Verdict("failing", tuple(fig.active[r] for r in sorted(fig.active)))
    if not any(leg.up for leg in fig.legs):
        return Verdict("unknown", ("nothing received yet",))
    return Verdict("ok")
