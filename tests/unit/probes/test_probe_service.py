from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus, Sample
from server_agent.probes.base import Done, ProbeKind, Prober, ProbeUnavailable
from server_agent.probes.service import ProbeService
from tests.unit.conftest import make_config


@dataclass
class FakeProber:
    """Answers after 1 ms, except for probes in ``lose`` (by address)."""

    lose: set[str] = field(default_factory=set)
    sent: list[tuple[float, str, int]] = field(default_factory=list)
    closed: bool = False

    def open(self) -> None:
        pass

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop = asyncio.get_running_loop()
        self.sent.append((loop.time(), address, port))
        if address in self.lose:
            loop.call_later(timeout, done, None, "no answer")
        else:
            loop.call_later(0.001, done, 0.001, None)

    def close(self) -> None:
        self.closed = True


class NoIcmp(FakeProber):
    def open(self) -> None:
        raise ProbeUnavailable("ICMP needs CAP_NET_RAW; the systemd unit grants it; use tcp:/udp:"
                               " probes otherwise")


def _devices(n: int, probes: list[str]) -> list[dict[str, object]]:
    return [{"name": f"dev-{i:03d}", "address": f"127.0.1.{i + 1}", "probes": probes}
            for i in range(n)]


async def _run_for(svc: ProbeService, seconds: float) -> None:
    task = asyncio.create_task(svc.run())
    await asyncio.sleep(seconds)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def test_probes_are_spread_over_the_interval(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, devices=_devices(20, ["udp:7"]),
                      probes={"interval_s": 0.2, "timeout_s": 0.1})
    fake = FakeProber()
    probers: dict[ProbeKind, Prober] = {"udp": fake}
    svc = ProbeService(cfg, DeviceRegistry(cfg.devices), LiveBus(), probers)
    svc._sync(100.0)
    dues = sorted(due for due, _, _ in svc._heap)
    assert dues == pytest.approx([100.0 + i * 0.01 for i in range(20)])  # evenly, not a burst
    await _run_for(svc, 0.3)
    assert {a for _, a, _ in fake.sent} == {f"127.0.1.{i + 1}" for i in range(20)}
    assert fake.closed


async def test_results_reach_registry_and_bus_lost_rtt_is_null(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, devices=_devices(2, ["tcp:80"]),
                      probes={"interval_s": 0.1, "timeout_s": 0.05, "loss_window": 4})
    fake = FakeProber(lose={"127.0.1.2"})
    bus = LiveBus()
    seen: list[Sample] = []
    bus.add_sample_listener(seen.append)
    reg = DeviceRegistry(cfg.devices)
    svc = ProbeService(cfg, reg, bus, {"tcp": fake})
    await _run_for(svc, 0.35)
    good, bad = reg.probe_status("dev-000")[0], reg.probe_status("dev-001")[0]
    assert good.up is True and good.rtt_ms is not None and good.loss_ratio == 0.0
    assert bad.up is False and bad.rtt_ms is None and bad.loss_ratio == 1.0
    assert bad.error is None and good.last_t is not None
    rtt = [s for s in seen if s.series == "flypack_probe_rtt_seconds"
           and ("device", "dev-001") in s.labels]
    assert rtt and all(s.v is None for s in rtt)
    names = {s.series for s in seen}
    assert names == {"flypack_probe_rtt_seconds", "flypack_probe_jitter_seconds",
                     "flypack_probe_loss_ratio", "flypack_probe_up", "flypack_probe_sent_total",
                     "flypack_probe_lost_total", "flypack_probe_starved_seconds",
                     "flypack_probe_held_total", "flypack_agent_loop_lag_seconds"}
    seen = [s for s in seen if s.series != "flypack_agent_loop_lag_seconds"]
    labels = dict(seen[0].labels)
    assert labels == {"flypack": "flypack-test", "device": labels["device"], "probe": "tcp:80"}
    stats = svc.stats("dev-001", "tcp:80")
    assert stats is not None and stats.sent == stats.lost >= 2
    assert svc.last_reason("dev-001", "tcp:80") == "no answer"


async def test_icmp_unavailable_is_an_error_in_the_status_not_a_crash(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, devices=_devices(2, ["icmp", "udp:7"]),
                      probes={"interval_s": 0.1, "timeout_s": 0.05})
    reg = DeviceRegistry(cfg.devices)
    svc = ProbeService(cfg, reg, LiveBus(), {"icmp": NoIcmp(), "udp": FakeProber()})
    await _run_for(svc, 0.25)
    st = {s.probe: s for s in reg.probe_status("dev-000")}
    assert st["icmp"].up is None and "CAP_NET_RAW" in (st["icmp"].error or "")
    assert st["udp:7"].up is True
    assert "icmp" in svc.unavailable()


async def test_timeout_is_capped_below_the_interval(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, probes={"interval_s": 0.5, "timeout_s": 2.0})
    svc = ProbeService(cfg, DeviceRegistry(), LiveBus())
    assert svc.timeout < svc.interval


async def test_each_next_probe_moves_a_little_so_nothing_periodic_hits_the_same_slot(
        tmp_path: Path) -> None:
    """A responder's host with a 1 s housekeeping task would delay the same devices' probes
    every second and make them look faulty: the phase of each slot wanders (±5 %), while
    the mean interval stays the interval."""
    cfg = make_config(tmp_path, devices=_devices(1, ["udp:7"]), probes={"interval_s": 1.0})
    svc = ProbeService(cfg, DeviceRegistry(cfg.devices), LiveBus(), {"udp": FakeProber()})
    svc._sync(100.0)
    [slot] = svc._slots.values()
    steps = []
    for _ in range(50):
        before = slot.due
        svc._fire_due(before)
        slot.in_flight = False
        steps.append(slot.due - before)
    assert all(0.95 - 1e-9 <= s <= 1.05 + 1e-9 for s in steps)
    assert len({round(s, 6) for s in steps}) > 10  # not the same phase every time


class StarvedLoser(FakeProber):
    """No answer, and the agent's loop blocked meanwhile (a busy host)."""

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop = asyncio.get_running_loop()
        self.sent.append((loop.time(), address, port))
        loop.call_soon(time.sleep, 0.03)
        loop.call_later(timeout, done, None, f"no echo within {timeout:g} s")


async def test_a_time_out_while_the_agent_starved_is_held_not_counted_lost(
        tmp_path: Path) -> None:
    cfg = make_config(tmp_path, devices=_devices(1, ["udp:7"]),
                      probes={"interval_s": 0.1, "timeout_s": 0.05, "starved_lag_ms": 5})
    bus = LiveBus()
    seen: list[Sample] = []
    bus.add_sample_listener(seen.append)
    reg = DeviceRegistry(cfg.devices)
    svc = ProbeService(cfg, reg, bus, {"udp": StarvedLoser()})
    await _run_for(svc, 0.5)
    stats = svc.stats("dev-000", "udp:7")
    assert stats is not None and stats.lost == 0 and stats.sent == 0
    held = [s.v for s in seen if s.series == "flypack_probe_held_total"]
    assert held and (held[-1] or 0) >= 2
    assert reg.probe_status("dev-000") == []  # nothing said about the device


class DeadDevice(FakeProber):
    """No answer: the device is dead."""

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        loop = asyncio.get_running_loop()
        self.sent.append((loop.time(), address, port))
        loop.call_later(timeout, done, None, f"no echo within {timeout:g} s")


async def _hiccups(every_s: float, block_s: float) -> None:
    """A busy host: the agent's loop stops for ``block_s`` every ``every_s`` (bounded by the
    caller's cancel)."""
    while True:
        await asyncio.sleep(every_s)
        time.sleep(block_s)  # noqa: ASYNC251 - on purpose: the loop is starved


async def test_short_hiccups_do_not_hide_a_dead_device(tmp_path: Path) -> None:
    """Only starvation that could explain a time-out holds it: 15 ms every 100 ms, each past
    the 5 ms threshold, is at most a third of a 400 ms wait, so the dead device's probes
    count as lost and its status goes down."""
    cfg = make_config(tmp_path, devices=_devices(1, ["udp:7"]),
                      probes={"interval_s": 0.5, "timeout_s": 0.4, "starved_lag_ms": 5})
    reg = DeviceRegistry(cfg.devices)
    svc = ProbeService(cfg, reg, LiveBus(), {"udp": DeadDevice()})
    busy = asyncio.create_task(_hiccups(0.1, 0.015))
    try:
        await _run_for(svc, 1.7)
    finally:
        busy.cancel()
    stats = svc.stats("dev-000", "udp:7")
    assert stats is not None and stats.lost >= 2
    [status] = reg.probe_status("dev-000")
    assert status.up is False
