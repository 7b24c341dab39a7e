from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server_agent.alarms.engine import AlarmEngine
from server_agent.alarms.errors import AlarmNotFound
from server_agent.config import AlarmsSection, DeviceSection
from server_agent.contract import ProbeStatus, Severity
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus, Sample, sample
from server_agent.store.db import Database

CFG = AlarmsSection(unreachable_after=3, reachable_after=2, loss_raise_ratio=0.1,
                    loss_clear_ratio=0.0, raise_after_s=3, clear_after_s=5, baseline_samples=10,
                    rtt_deviation_factor=4, rtt_deviation_min_ms=5)


class Rig:
    def __init__(self, path: Path, cfg: AlarmsSection = CFG) -> None:
        self.now = 1000.0
        self.db = Database(path)
        self.bus = LiveBus()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.samples: list[Sample] = []
        self.bus.add_event_listener(lambda k, d: self.events.append((k, d)))
        self.bus.add_sample_listener(self.samples.append)
        self.registry = DeviceRegistry([
            DeviceSection(name="enc-01", address="127.0.0.1", probes=["udp:7"]),
            DeviceSection(name="sw-01", address="127.0.0.2", rtt_budget_ms=20),
        ])
        self.engine = AlarmEngine(cfg, self.db, self.bus, self.registry, flypack="fp",
                                  clock=lambda: self.now)

    def feed(self, series: str, v: float | None, device: str = "enc-01", probe: str = "udp:7",
             dt: float = 1.0) -> None:
        self.now += dt
        self.bus.publish([sample(series, {"flypack": "fp", "device": device, "probe": probe},
                                 v, self.now)])

    def up(self, ok: bool, **kw: Any) -> None:
        self.feed("flypack_probe_up", 1.0 if ok else 0.0, **kw)

    def rtt_ms(self, ms: float, **kw: Any) -> None:
        self.feed("flypack_probe_rtt_seconds", ms / 1000, **kw)

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]

    def active_count(self, sev: str) -> float | None:
        return self.bus.latest("flypack_alarms_active", {"flypack": "fp", "severity": sev})


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path / "agent.db")
    yield r
    r.db.close()


def test_unreachable_raises_and_clears_with_hysteresis(rig: Rig) -> None:
    for ok in (False, False, True, False, False):
        rig.up(ok)
    assert rig.engine.active() == []
    rig.up(False)
    [a] = rig.engine.active()
    assert (a.key, a.rule, a.severity, a.device) == ("unreachable/enc-01/udp:7", "unreachable",
                                                     Severity.critical, "enc-01")
    assert a.message == "enc-01 does not answer udp:7 (3 probes in a row lost)"
    assert a.raised_at == rig.now and a.value == 3
    assert rig.active_count("critical") == 1.0 and rig.active_count("minor") == 0.0
    rig.up(True)
    rig.up(False)
    rig.up(True)
    assert rig.engine.active()
    rig.up(True)
    assert rig.engine.active() == []
    assert rig.kinds() == ["alarm.raised", "alarm.cleared"]
    cleared = rig.events[-1][1]
    assert cleared["active"] is False and cleared["cleared_at"] == rig.now
    assert cleared["severity"] == "critical"
    assert rig.active_count("critical") == 0.0
    # raising again is a new row
    for _ in range(3):
        rig.up(False)
    [b] = rig.engine.active()
    assert b.id != a.id
    assert len(rig.engine.query(device="enc-01")) == 2


def test_loss_sustained_with_dead_band(rig: Rig) -> None:
    for _ in range(3):
        rig.feed("flypack_probe_loss_ratio", 0.5)  # t = 1, 2, 3: held 2 s only
    assert rig.engine.active() == []
    rig.feed("flypack_probe_loss_ratio", 0.5)  # held 3 s
    [a] = rig.engine.active()
    assert a.rule == "loss" and a.severity == Severity.major and a.value == 0.5
    assert "loses 50% of its udp:7 probes" in a.message
    for _ in range(10):
        rig.feed("flypack_probe_loss_ratio", 0.05)  # below raise, above clear: stays raised
    assert rig.engine.active()
    for _ in range(5):
        rig.feed("flypack_probe_loss_ratio", 0.0)
    assert rig.engine.active()
    rig.feed("flypack_probe_loss_ratio", 0.0)  # held 5 s
    assert rig.engine.active() == []


def test_loss_is_not_raised_for_an_outage(rig: Rig) -> None:
    ratio = 0.0
    for _ in range(10):  # an outage: unreachable raises, loss climbs but does not raise
        ratio = min(1.0, ratio + 0.1)
        rig.up(False, dt=0.5)
        rig.feed("flypack_probe_loss_ratio", ratio, dt=0.5)
    assert [a.rule for a in rig.engine.active()] == ["unreachable"]
    for _ in range(6):  # back: the window drains, the outage's losses do not raise loss
        ratio -= 0.1
        rig.up(True, dt=0.5)
        rig.feed("flypack_probe_loss_ratio", ratio, dt=0.5)
    assert rig.engine.active() == []
    for _ in range(5):  # new loss after the outage does raise it
        ratio += 0.1
        rig.up(True, dt=0.5)
        rig.feed("flypack_probe_loss_ratio", ratio, dt=0.5)
    assert [a.rule for a in rig.engine.active()] == ["loss"]


def test_rtt_deviation_uses_the_devices_own_learned_baseline(rig: Rig) -> None:
    noisy = [20.0, 24.0, 18.0, 30.0, 22.0, 19.0, 27.0, 21.0, 25.0, 23.0]
    for ms in noisy:  # a noisy switch: ~23 ms; a fixed 10 ms rule would alarm all the time
        rig.rtt_ms(ms)
    base = rig.engine.baseline_ms("enc-01", "udp:7")
    assert base is not None
    mean, dev = base
    assert 21 < mean < 25 and 1 < dev < 6
    limit = mean + max(4 * dev, 5)
    for ms in noisy * 2:
        rig.rtt_ms(ms)
    assert rig.engine.active() == []
    status = rig.registry.probe_status("enc-01")
    assert status == []  # the engine annotates statuses, it does not invent them
    rig.registry.set_probe_status("enc-01", ProbeStatus(probe="udp:7", up=True, rtt_ms=23,
                                                        jitter_ms=1, loss_ratio=0))
    for _ in range(4):
        rig.rtt_ms(limit + 30)
    [a] = rig.engine.active()
    assert a.rule == "rtt_deviation" and a.severity == Severity.minor
    assert "its usual is" in a.message and a.value == pytest.approx(limit + 30)
    frozen = rig.engine.baseline_ms("enc-01", "udp:7")
    for _ in range(3):
        rig.rtt_ms(22.0)  # normal again, but raised: the baseline does not move
    assert rig.engine.baseline_ms("enc-01", "udp:7") == frozen
    for _ in range(3):
        rig.rtt_ms(22.0)
    assert rig.engine.active() == []
    [st] = rig.registry.probe_status("enc-01")
    assert st.baseline_rtt_ms is not None and 21 < st.baseline_rtt_ms < 25


def test_acking_an_rtt_deviation_accepts_the_new_rtt(rig: Rig) -> None:
    for _ in range(10):
        rig.rtt_ms(1.0)
    for _ in range(4):
        rig.rtt_ms(50.0)
    [a] = rig.engine.active()
    for _ in range(20):
        rig.rtt_ms(50.0)
    assert rig.engine.active()  # a lasting change stays raised ...
    rig.engine.ack(a.id, "tech")
    for _ in range(10 + 6):
        rig.rtt_ms(50.0)
    assert rig.engine.active() == []  # ... until acked: relearned, then cleared


def test_rtt_budget_only_for_devices_with_one(rig: Rig) -> None:
    for _ in range(5):
        rig.rtt_ms(30.0, device="enc-01", probe="icmp")
        rig.rtt_ms(30.0, device="sw-01", probe="icmp", dt=0)
    [a] = rig.engine.active()
    assert (a.rule, a.device, a.severity) == ("rtt_budget", "sw-01", Severity.major)
    assert a.message == "sw-01 answers icmp in 30.0 ms, over its 20 ms budget"


def test_ack_is_idempotent_and_published(rig: Rig) -> None:
    for _ in range(3):
        rig.up(False)
    [a] = rig.engine.active()
    acked = rig.engine.ack(a.id, "operator")
    assert acked.acked_by == "operator" and acked.acked_at == rig.now and acked.active
    rig.now += 10
    again = rig.engine.ack(a.id, "admin")
    assert again.acked_by == "operator" and again.acked_at == acked.acked_at
    assert rig.kinds() == ["alarm.raised", "alarm.acked"]
    assert rig.engine.active()[0].acked_by == "operator"
    with pytest.raises(AlarmNotFound):
        rig.engine.ack(9999, "operator")


def test_active_alarms_survive_a_restart(tmp_path: Path) -> None:
    first = Rig(tmp_path / "agent.db")
    for _ in range(3):
        first.up(False)
    [a] = first.engine.active()
    first.engine.ack(a.id, "operator")
    first.db.close()

    second = Rig(tmp_path / "agent.db")
    [b] = second.engine.active()
    assert (b.id, b.key, b.acked_by) == (a.id, a.key, "operator")
    second.engine.publish_counts()  # what run() does at start and every few seconds
    assert second.active_count("critical") == 1.0
    [listed] = second.engine.query(active=True)
    assert listed.id == a.id
    second.up(True)
    second.up(True)  # reachable_after = 2: the restored alarm clears
    assert second.engine.active() == []
    assert second.engine.query(active=False)[0].id == a.id
    second.db.close()


def test_listener_never_raises_into_the_publisher(rig: Rig) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("broken rule")

    rig.engine._handlers["flypack_probe_up"] = boom
    rig.up(False)  # logged, not raised
    rig.feed("flypack_probe_up", None)
    rig.bus.publish([sample("flypack_probe_up", {"device": "x"}, 0.0)])  # no probe label
    assert rig.engine.active() == []


def test_query_filters(rig: Rig) -> None:
    for _ in range(3):
        rig.up(False)
        rig.up(False, device="sw-01", probe="icmp", dt=0)
    for _ in range(2):
        rig.up(True)
    assert {a.device for a in rig.engine.query(active=True)} == {"sw-01"}
    assert {a.device for a in rig.engine.query(active=False)} == {"enc-01"}
    assert len(rig.engine.query(severity=Severity.critical)) == 2
    assert rig.engine.query(severity=Severity.minor) == []
    assert len(rig.engine.query(limit=1)) == 1


async def test_run_publishes_the_counts_at_start(rig: Rig) -> None:
    import asyncio

    task = asyncio.create_task(rig.engine.run())
    await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert rig.active_count("critical") == 0.0 and rig.active_count("warning") == 0.0
