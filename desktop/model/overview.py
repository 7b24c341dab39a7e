"""The overview's view state: one tile per flypack, worst first (no Qt, no I/O).

    snapshot (devices, streams, alarms, jobs) ─► summarize() ─► Tile(level, counts, target)
    no snapshot for a while ─► stale;  last poll failed ─► unreachable  (never "healthy")

``Tile.target`` is where one tap lands: the most severe problem (an alarm, a stream in alarm,
a device down or degraded), so the technician starts where it hurts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from desktop.model.board import ProbeLive, derive_state
from server_agent.contract import Alarm, Device, DeviceState, Severity, Stream

__all__ = ["FlypackSnapshot", "Level", "Target", "Tile", "order_tiles", "plural", "still_a_problem",
           "summarize"]

STALE_AFTER_S = 15.0


def device_state(d: Device) -> DeviceState:
    """From the probes (as the dashboard's board does), else what the agent says."""
    if d.probes:
        return derive_state(ProbeLive.from_status(p) for p in d.probes)
    return d.state


class Level(IntEnum):
    """Worse is larger; tiles sort by it (descending)."""

    ok = 0
    unknown = 1  # not logged in / no data yet
    warning = 2
    stale = 3
    degraded = 4
    critical = 5
    unreachable = 6  # knowing nothing is worse than knowing of a problem


@dataclass
class FlypackSnapshot:
    flypack: str
    url: str
    t: float
    devices: list[Device] = field(default_factory=list)
    streams: list[Stream] | None = None  # None: this agent has no stream API
    alarms: list[Alarm] | None = None
    jobs_running: int | None = None  # None: no jobs API


@dataclass(frozen=True)
class Target:
    """Where a tap on the tile opens the dashboard: a tab and, optionally, an item in it."""

    tab: str  # "streams" | "devices" | "jobs" | "alarms"
    item: str | int | None = None
    why: str = ""


@dataclass
class Tile:
    url: str
    name: str
    level: Level
    headline: str
    streams_ok: int = 0
    streams_alarm: int = 0
    devices_up: int = 0
    devices_down: int = 0
    devices_degraded: int = 0
    worst_rtt_ms: float | None = None
    worst_device: str = ""
    jobs_running: int | None = None
    alarms_active: int = 0  # raised and not cleared, acknowledged or not
    alarms_acked: int = 0  # of those, acknowledged (someone is on it; still active)
    target: Target = Target("streams")
    updated: float | None = None
    error: str = ""

    @property
    def alarm_summary(self) -> str:
        """What is active and what of it is acknowledged, in words."""
        n, acked = self.alarms_active, self.alarms_acked
        if not n:
            return "no active alarms"
        if not acked:
            return f"{plural(n, 'active alarm')} (unacknowledged)"
        if acked == n:
            return f"{plural(n, 'active alarm')} (acknowledged)"
        return f"{plural(n, 'active alarm')} ({n - acked} unacknowledged, {acked} acknowledged)"


def plural(n: int, noun: str) -> str:
    """``1 active alarm``, ``2 active alarms``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_SEV = {Severity.critical: 0, Severity.major: 1, Severity.minor: 2, Severity.warning: 3}


def summarize(url: str, name: str, snap: FlypackSnapshot | None, now: float,
              error: str = "", logged_in: bool = True) -> Tile:
    if not logged_in:
        return Tile(url, name, Level.unknown, "not logged in — tap to log in",
                    target=Target("login"), error=error)
    if snap is None:
        level = Level.unreachable if error else Level.unknown
        return Tile(url, name, level, "UNREACHABLE" if error else "connecting…", error=error)
    tile = Tile(url, snap.flypack or name, Level.ok, "all OK", updated=snap.t,
                jobs_running=snap.jobs_running)
    for d in snap.devices:
        state = device_state(d)
        if state is DeviceState.down:
            tile.devices_down += 1
        elif state is DeviceState.degraded:
            tile.devices_degraded += 1
        elif state is DeviceState.up:
            tile.devices_up += 1
        rtts = [p.rtt_ms for p in d.probes if p.rtt_ms is not None]
        if rtts and (tile.worst_rtt_ms is None or max(rtts) > tile.worst_rtt_ms):
            tile.worst_rtt_ms, tile.worst_device = max(rtts), d.name
    for s in snap.streams or []:
        if s.state == "alarm":
            tile.streams_alarm += 1
        elif s.state == "ok":
            tile.streams_ok += 1
    active = [a for a in snap.alarms or [] if a.active]
    tile.alarms_active = len(active)
    tile.alarms_acked = sum(1 for a in active if a.acked_at is not None)
    tile.level, tile.headline, tile.target = _worst(snap, active)
    if error or now - snap.t > STALE_AFTER_S:
        tile.error = error
        tile.level = Level.unreachable if error else max(tile.level, Level.stale)
        tile.headline = ("UNREACHABLE — last data shown" if error else "STALE") + \
            f" ({tile.headline})"
    return tile


def _worst(snap: FlypackSnapshot, active: list[Alarm]) -> tuple[Level, str, Target]:
    unacked = sorted((a for a in active if a.acked_at is None),
                     key=lambda a: (_SEV[a.severity], -a.raised_at))
    if unacked and unacked[0].severity in (Severity.critical, Severity.major):
        a = unacked[0]
        return Level.critical, f"{a.severity.value}: {a.message}", Target("alarms", a.id,
                                                                           a.message)
    bad_streams = [s for s in snap.streams or [] if s.state == "alarm"]
    if bad_streams:
        s = bad_streams[0]
        why = ", ".join(s.alarms) or "in alarm"
        if s.first_failing_hop:  # the stream opens there (its hop is marked first failing)
            why = f"{why}; first failing hop: {s.first_failing_hop}"
        return Level.critical, f"stream {s.id}: {why}", Target("streams", s.id, why)
    down = [d for d in snap.devices if device_state(d) is DeviceState.down]
    if down:
        names = ", ".join(d.name for d in down[:3]) + ("…" if len(down) > 3 else "")
        return Level.degraded, f"{len(down)} down: {names}", Target("devices", down[0].id,
                                                                   "device down")
    degraded = [d for d in snap.devices if device_state(d) is DeviceState.degraded]
    if degraded:
        return (Level.warning, f"{len(degraded)} degraded: {degraded[0].name}",
                Target("devices", degraded[0].id, "device degraded"))
    if unacked:
        a = unacked[0]
        return Level.warning, f"{a.severity.value}: {a.message}", Target("alarms", a.id)
    acked = sorted((a for a in active if a.acked_at is not None),
                   key=lambda a: (_SEV[a.severity], -a.raised_at))
    if acked:  # known and taken care of, but not over: never "all OK"
        a = acked[0]
        return (Level.ok, f"{plural(len(acked), 'acknowledged alarm')} still active — "
                f"{a.severity.value}: {a.message}", Target("alarms", a.id))
    return Level.ok, "all OK", Target("streams")


def still_a_problem(snap: FlypackSnapshot, tab: str, item: str | int | None) -> bool:
    """Is what a tap opened at (an alarm, a stream, a device) still a problem? An alarm stays
    one until it clears (acknowledged or not), a stream while in alarm, a device while down or
    degraded; a newer or worse problem elsewhere does not end it."""
    if tab == "alarms":
        return any(a.id == item and a.active for a in snap.alarms or [])
    if tab == "streams":
        return any(s.id == item and s.state == "alarm" for s in snap.streams or [])
    if tab == "devices":
        return any(d.id == item and device_state(d) in (DeviceState.down, DeviceState.degraded)
                   for d in snap.devices)
    return False


def order_tiles(tiles: list[Tile]) -> list[Tile]:
    """Worst first; ties by name (stable, so tiles do not jump around)."""
    return sorted(tiles, key=lambda t: (-int(t.level), t.name))
