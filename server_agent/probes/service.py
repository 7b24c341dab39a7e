"""ProbeService: every probe of every device, every ``[probes].interval_s``, spread out.

    registry.targets() ──► slots (device, probe) ──► one scheduler task (a heap of due times)
                                                      │ prober.probe(..., done)  (no task each)
    registry.set_probe_status() ◄── ProbeStats ◄──────┘ done(rtt | None, reason)
    bus.publish(flypack_probe_*)  ◄──┘

The slots' first due times are spread evenly over one interval, so 170 devices at 1 Hz send
one probe every ~6 ms rather than 170 at once, and the schedule does not drift. When the loop
falls behind, a slot skips ahead instead of bursting. The time-out is capped at 90 % of the
interval, so at most one probe per slot is in flight. The list of targets is re-read every
10 s (discovery may add devices). A kind of probe that cannot run here (ICMP without
CAP_NET_RAW) sets ``error`` in the status of its probes and is retried every minute.
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
from server_agent.probes.base import ProbeKind, Prober, ProbeSpec, ProbeUnavailable
from server_agent.probes.icmp import IcmpProber
from server_agent.probes.stats import ProbeStats
from server_agent.probes.tcp import TcpConnectProber
from server_agent.probes.udp import UdpEchoProber

log = logging.getLogger("flypack.probes")

SYNC_EVERY_S = 10.0
RETRY_UNAVAILABLE_S = 60.0
BATCH_S = 0.01  # probes due within this of each other go out in one wake-up
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
        next_sync = 0.0
        try:
            while True:
                now = loop.time()
                if now >= next_sync:
                    self._sync(now)
                    next_sync = now + SYNC_EVERY_S
                self._fire_due(now)
                wake = min(self._heap[0][0], next_sync) if self._heap else next_sync
                await asyncio.sleep(max(0.0, wake - loop.time()))
        finally:
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

    def _fire_due(self, now: float) -> None:
        heap = self._heap
        until = now + BATCH_S
        while heap and heap[0][0] <= until:
            due, _, slot = heapq.heappop(heap)
            if slot.removed:
                continue
            self._fire(slot, now)
            slot.due = due + self.interval
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

    def _fire(self, slot: _Slot, now: float) -> None:
        prober = self._prober(slot.spec.kind, now)
        if isinstance(prober, str):
            self._set_error(slot, prober)
            return
        if slot.in_flight:
            return
        slot.in_flight = True
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
        st = slot.stats
        st.add(rtt)
        slot.error = None
        slot.last_reason = reason
        t = time.time()
        loss = st.loss_ratio
        self.registry.set_probe_status(slot.device, ProbeStatus(
            probe=slot.probe, up=rtt is not None, rtt_ms=_ms(rtt), jitter_ms=_ms(st.jitter),
            loss_ratio=loss, last_t=t))
        lab = slot.labels
        # `up` first: the alarm engine reads reachability before it judges loss and RTT
        self.bus.publish((
            Sample(m.PROBE_UP.name, lab, t, 1.0 if rtt is not None else 0.0),
            Sample(m.PROBE_LOSS.name, lab, t, loss),
            Sample(m.PROBE_RTT.name, lab, t, rtt),
            Sample(m.PROBE_JITTER.name, lab, t, st.jitter),
            Sample(m.PROBE_SENT.name, lab, t, float(st.sent)),
            Sample(m.PROBE_LOST.name, lab, t, float(st.lost)),
        ))
