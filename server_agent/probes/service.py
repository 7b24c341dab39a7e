"""ProbeService: every probe of every device, every ``[probes].interval_s``, spread out.

    registry.targets() ──► slots (device, probe) ──► one scheduler task (a heap of due times)
                                                      │ prober.probe(..., done)  (no task each)
    registry.set_probe_status() ◄── ProbeStats ◄──────┘ done(rtt | None, reason)
    bus.publish(flypack_probe_*)  ◄──┘

The slots' first due times are spread evenly over one interval, so 170 devices at 1 Hz send
one probe every ~6 ms rather than 170 at once, and the schedule does not drift on average;
each next probe comes one interval later give or take 5 % at random, so that something
periodic on a responder's host (a 1 s housekeeping task) cannot delay the same devices'
probes every time and pass for their fault. When the loop falls behind, a slot skips ahead
instead of bursting. The time-out is capped at 90 % of the
interval, so at most one probe per slot is in flight. The list of targets is re-read every
10 s (discovery may add devices). A kind of probe that cannot run here (ICMP without
CAP_NET_RAW) sets ``error`` in the status of its probes and is retried every minute.

The agent's own starvation (:mod:`server_agent.probes.starvation`): a ticker and the
scheduler's own late wake-ups feed a :class:`LoopMonitor`. A result taken while the agent was
starved (its probe fired late, or the loop lagged during its flight) increments
``flypack_probe_held_total``: the alarm engine never learns it into a baseline. RTTs are
kernel-measured, but a responder on the agent's own loop (:mod:`server_agent.probes.local`:
an in-process simulator, re-checked at each sync) or its host stalls with it:
``flypack_probe_starved_seconds`` is how long the agent was starved during the flight
(counted generously for a responder on its own loop, strictly for others), and the engine
judges the RTT minus it. Both are published just before the RTT they qualify, when they
say something. A probe that timed out while the agent was starved for half its time-out or
more is held too: not counted as lost (nor as answered). The loop's peak lag goes out each
second as ``flypack_agent_loop_lag_seconds``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from server_agent.config import AgentConfig
from server_agent.contract import ProbeStatus
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import Labels, LiveBus, Sample, labels_of
from server_agent.probes import metric_defs as m
from server_agent.probes.base import (
    ProbeKind,
    Prober,
    ProbeSpec,
    ProbeUnavailable,
    timed_out,
)
from server_agent.probes.icmp import IcmpProber
from server_agent.probes.local import answers_itself, own_endpoints
from server_agent.probes.starvation import LoopMonitor
from server_agent.probes.stats import ProbeStats
from server_agent.probes.tcp import TcpConnectProber
from server_agent.probes.udp import UdpEchoProber

log = logging.getLogger("flypack.probes")

SYNC_EVERY_S = 10.0
LAG_EVERY_S = 1.0
RETRY_UNAVAILABLE_S = 60.0
BATCH_S = 0.01  # probes due within this of each other go out in one wake-up
PHASE_JITTER = 0.05  # each next probe is one interval later, give or take this share of it
HOLD_SHARE = 0.5  # of the time-out: starved this long, a time-out is held, not counted lost
TIMEOUT_SHARE = 0.9


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


@dataclass(slots=True, eq=False)
class _Slot:
    device: str
    probe: str
    spec: ProbeSpec
    address: str
    labels: Labels
    stats: ProbeStats
    due: float = 0.0
    in_flight: bool = False
    sent_at: float = 0.0  # wall clock, just before the prober sent
    late: float = 0.0  # how late the scheduler fired this probe (s)
    held: int = 0  # results taken while the agent was starved
    published: tuple[int, float | None] | None = None  # (held, starved) last put on the bus
    local: bool = False  # the agent's own process answers this target
    removed: bool = False
    error: str | None = None
    last_reason: str | None = field(default=None)


class ProbeService:
    def __init__(self, config: AgentConfig, registry: DeviceRegistry, bus: LiveBus,
                 probers: Mapping[ProbeKind, Prober] | None = None) -> None:
        self.interval = config.probes.interval_s
        self.timeout = min(config.probes.timeout_s, TIMEOUT_SHARE * self.interval)
        self.window = config.probes.loss_window
        self.flypack = config.agent.flypack
        self.registry = registry
        self.bus = bus
        self._probers: dict[ProbeKind, Prober] = dict(probers) if probers else {
            "icmp": IcmpProber(), "tcp": TcpConnectProber(), "udp": UdpEchoProber()}
        self._opened: set[ProbeKind] = set()
        self._unavailable: dict[ProbeKind, tuple[str, float]] = {}
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._heap: list[tuple[float, int, _Slot]] = []
        self._order = itertools.count()
        self.monitor = LoopMonitor(config.probes.starved_lag_ms / 1000.0)
        self._lag_labels = labels_of({"flypack": self.flypack})

    # --- reading ------------------------------------------------------------------------

    def stats(self, device: str, probe: str) -> ProbeStats | None:
        slot = self._slots.get((device, probe))
        return slot.stats if slot else None

    def last_reason(self, device: str, probe: str) -> str | None:
        """Why the latest probe was lost (``None`` when it was answered)."""
        slot = self._slots.get((device, probe))
        return slot.last_reason if slot else None

    def unavailable(self) -> dict[str, str]:
        """Kinds of probe that cannot run here, with the reason."""
        return {k: msg for k, (msg, _) in self._unavailable.items()}

    # --- running ------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sync = next_lag = 0.0
        ticker: asyncio.Task[None] | None = None  # the loop monitor, while there is a probe
        try:
            while True:
                now = loop.time()
                if now >= next_sync:
                    self._sync(now)
                    next_sync = now + SYNC_EVERY_S
                    if self._slots and ticker is None:
                        ticker = asyncio.create_task(self.monitor.run(), name="probes-lag")
                    elif not self._slots and ticker is not None:
                        ticker.cancel()
                        ticker = None
                if now >= next_lag:
                    self._publish_lag()
                    next_lag = now + LAG_EVERY_S
                self._fire_due(now)
                wake = min(self._heap[0][0] if self._heap else next_sync, next_sync, next_lag)
                await asyncio.sleep(max(0.0, wake - loop.time()))
                late = loop.time() - wake  # a late tick of the scheduler is starvation too
                if late > 0:
                    woke = time.time()
                    self.monitor.observe(woke - late, woke)
        finally:
            if ticker is not None:
                ticker.cancel()
            for kind in self._opened:
                self._probers[kind].close()
            self._opened.clear()
            for slot in self._slots.values():
                slot.in_flight = False

    def _sync(self, now: float) -> None:
        wanted: dict[tuple[str, str], tuple[str, ProbeSpec]] = {}
        for dev in self.registry.targets():
            for p in dev.probes:
                wanted[(dev.name, p)] = (dev.address, ProbeSpec.parse(p))
        for key in [k for k in self._slots if k not in wanted]:
            self._slots.pop(key).removed = True
        first = not self._slots
        new = [k for k in wanted if k not in self._slots]
        for i, key in enumerate(new):
            address, spec = wanted[key]
            offset = i / len(new) if first else random.random()
            slot = _Slot(
                device=key[0], probe=key[1], spec=spec, address=address,
                labels=labels_of({"flypack": self.flypack, "device": key[0], "probe": key[1]}),
                stats=ProbeStats(self.window), due=now + offset * self.interval,
            )
            self._slots[key] = slot
            heapq.heappush(self._heap, (slot.due, next(self._order), slot))
        for key, (address, _) in wanted.items():
            self._slots[key].address = address
        if any(sl.spec.kind != "icmp" for sl in self._slots.values()):
            mine = own_endpoints()
            for sl in self._slots.values():
                sl.local = sl.spec.kind != "icmp" and answers_itself(
                    mine, sl.spec.kind, sl.address, sl.spec.port)

    def _fire_due(self, now: float) -> None:
        heap = self._heap
        until = now + BATCH_S
        while heap and heap[0][0] <= until:
            due, _, slot = heapq.heappop(heap)
            if slot.removed:
                continue
            self._fire(slot, now, now - due)
            slot.due = due + self.interval * (1.0 + random.uniform(-PHASE_JITTER, PHASE_JITTER))
            if slot.due <= now:  # fell behind: skip ahead, never burst to catch up
                slot.due = now + self.interval * (0.5 + random.random() / 2)
            heapq.heappush(heap, (slot.due, next(self._order), slot))

    def _prober(self, kind: ProbeKind, now: float) -> Prober | str:
        if kind in self._opened:
            return self._probers[kind]
        known = self._unavailable.get(kind)
        if known is not None and now < known[1]:
            return known[0]
        prober = self._probers[kind]
        try:
            prober.open()
        except ProbeUnavailable as exc:
            if known is None:
                log.warning("%s probes cannot run: %s", kind, exc)
            self._unavailable[kind] = (str(exc), now + RETRY_UNAVAILABLE_S)
            return str(exc)
        except OSError as exc:
            msg = f"cannot open the {kind} probe socket: {exc.strerror or exc}"
            self._unavailable[kind] = (msg, now + RETRY_UNAVAILABLE_S)
            return msg
        self._unavailable.pop(kind, None)
        self._opened.add(kind)
        return prober

    def _fire(self, slot: _Slot, now: float, late: float = 0.0) -> None:
        prober = self._prober(slot.spec.kind, now)
        if isinstance(prober, str):
            self._set_error(slot, prober)
            return
        if slot.in_flight:
            return
        slot.in_flight = True
        slot.late = late
        slot.sent_at = time.time()
        prober.probe(slot.address, slot.spec.port, self.timeout, partial(self._done, slot))

    def _set_error(self, slot: _Slot, msg: str) -> None:
        if slot.error == msg:
            return
        slot.error = msg
        self.registry.set_probe_status(slot.device, ProbeStatus(
            probe=slot.probe, up=None, rtt_ms=None, jitter_ms=None, loss_ratio=None, error=msg))

    def _done(self, slot: _Slot, rtt: float | None, reason: str | None) -> None:
        slot.in_flight = False
        if slot.removed:
            return
        if rtt is None and reason is not None and timed_out(reason) and self._starved_loss(slot):
            slot.held += 1  # no answer in time, but the agent could not listen: hold it
            self.bus.publish((Sample(m.PROBE_HELD.name, slot.labels, time.time(),
                                     float(slot.held)),))
            return
        st = slot.stats
        st.add(rtt)
        slot.error = None
        slot.last_reason = reason
        t = time.time()
        starved: float | None = None
        if rtt is not None:
            mon, t1 = self.monitor, slot.sent_at + rtt
            loose = mon.starved(slot.sent_at, t1, slack=mon.tick)
            if loose > 0 or slot.late >= mon.threshold:
                slot.held += 1
            starved = loose if slot.local or not loose else mon.starved(slot.sent_at, t1)
        loss = st.loss_ratio
        self.registry.set_probe_status(slot.device, ProbeStatus(
            probe=slot.probe, up=rtt is not None, rtt_ms=_ms(rtt), jitter_ms=_ms(st.jitter),
            loss_ratio=loss, last_t=t))
        lab = slot.labels
        # `up` first: the alarm engine reads reachability before it judges loss and RTT;
        # `held` and `starved` just before the RTT they qualify, and only when they say
        # something (a change, or starvation): most results carry neither
        qualifiers: tuple[Sample, ...] = ()
        if slot.published != (slot.held, starved) or starved:
            slot.published = (slot.held, starved)
            qualifiers = (Sample(m.PROBE_HELD.name, lab, t, float(slot.held)),
                          Sample(m.PROBE_STARVED.name, lab, t, starved))
        self.bus.publish((
            Sample(m.PROBE_UP.name, lab, t, 1.0 if rtt is not None else 0.0),
            Sample(m.PROBE_LOSS.name, lab, t, loss),
            *qualifiers,
            Sample(m.PROBE_RTT.name, lab, t, rtt),
            Sample(m.PROBE_JITTER.name, lab, t, st.jitter),
            Sample(m.PROBE_SENT.name, lab, t, float(st.sent)),
            Sample(m.PROBE_LOST.name, lab, t, float(st.lost)),
        ))

    def _starved_loss(self, slot: _Slot) -> bool:
        """A time-out is held when the agent's own starvation could explain it: the probe
        fired late, or the agent was starved during the flight (counted generously: each span
        from the tick before), for at least HOLD_SHARE of the time-out; a responder on its
        loop or its host was then late by about as much. A reply that came in time waits in
        the socket, and the loop reads it before it runs the time-out, so a few hiccups
        explain nothing: a dead device still goes down on a busy host."""
        mon = self.monitor
        enough = HOLD_SHARE * self.timeout
        return (slot.late >= enough
                or mon.starved(slot.sent_at, time.time(), slack=mon.tick) >= enough)

    def _publish_lag(self) -> None:
        self.bus.publish((Sample(m.AGENT_LOOP_LAG.name, self._lag_labels, time.time(),
                                 self.monitor.take_peak()),))
