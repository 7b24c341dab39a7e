"""Alarm correlation: one alarm naming the first failing hop instead of downstream symptoms;
devices downstream of a failing hop are held; the alarm engine holds and releases them."""

from __future__ import annotations

from pathlib import Path

from server_agent.alarms.engine import AlarmEngine
from server_agent.config import AlarmsSection
from server_agent.contract import HopStatus, Severity
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus, sample
from server_agent.store.db import Database
from server_agent.video.paths import PATH_RULE, PathResult, held_devices, stream_alarms

SEV = {"no_signal": Severity.critical, "continuity_count_error": Severity.major}


def result(states: list[tuple[str, str, str | None]], analysis: int | None = None,
           ids: dict[str, str] | None = None) -> PathResult:
    hops = [HopStatus(name=n, kind="analysis" if n == "agent" else "device", device=d,
                      state=s, reasons=[f"{n} {s}"])  # type: ignore[arg-type]
            for n, s, d in states]
    first = next((i for i, h in enumerate(hops) if h.state == "failing"), None)
    return PathResult(hops=hops, first_failing=None if first is None else hops[first].name,
                      first_index=first,
                      analysis_index=len(hops) if analysis is None else analysis,
                      device_ids=ids or {h.name: h.device for h in hops if h.device})


def test_own_alarms_without_a_path_or_when_nothing_fails_upstream() -> None:
    active = {"no_signal": "no datagrams on leg 1"}
    own = stream_alarms("s1", "Cam 1", None, active, SEV)
    assert own == stream_alarms("s1", "Cam 1", result(
        [("enc", "ok", "enc-01"), ("agent", "failing", None)], analysis=1), active, SEV)
    (key, wish), = own.items()
    assert key == "stream/s1/no_signal" and wish.rule == "stream_no_signal"
    assert wish.severity is Severity.critical and wish.message == "Cam 1: no datagrams on leg 1"


def test_upstream_failure_replaces_symptoms_with_one_alarm() -> None:
    res = result([("enc", "ok", "enc-01"), ("sw", "failing", "sw-01"),
                  ("rtr", "caused_upstream", "rtr-01"), ("agent", "caused_upstream", None)],
                 analysis=3)
    active = {"no_signal": "no datagrams on leg 1", "continuity_count_error": "cc"}
    (key, wish), = stream_alarms("s1", "Cam 1", res, active, SEV).items()
    assert key == "stream/s1/path/sw" and wish.rule == PATH_RULE
    assert wish.severity is Severity.critical and wish.device == "sw-01"
    assert wish.message == ("Cam 1: first failing hop sw (sw failing); caused upstream: "
                            "rtr, continuity_count_error, no_signal")


def test_upstream_failure_without_symptoms_raises_nothing() -> None:
    res = result([("enc", "ok", "enc-01"), ("sw", "failing", "sw-01"),
                  ("agent", "ok", None)], analysis=2)
    assert stream_alarms("s1", "Cam 1", res, {}, SEV) == {}


def test_held_devices_are_downstream_and_not_a_root_elsewhere() -> None:
    a = result([("sw", "failing", "sw-01"), ("rtr", "caused_upstream", "rtr-01"),
                ("dec", "caused_upstream", "dec-01")])
    b = result([("rtr", "failing", "rtr-01"), ("agent", "caused_upstream", None)])
    assert held_devices({"a": a}) == {"rtr-01": "caused upstream by sw (stream a)",
                                      "dec-01": "caused upstream by sw (stream a)"}
    assert held_devices({"a": a, "b": b}) == {"dec-01": "caused upstream by sw (stream a)"}


def engine(tmp_path: Path) -> tuple[AlarmEngine, LiveBus]:
    bus = LiveBus()
    cfg = AlarmsSection(unreachable_after=2, reachable_after=2)
    return AlarmEngine(cfg, Database(tmp_path / "a.db"), bus, DeviceRegistry()), bus


def up(bus: LiveBus, device: str, v: float, t: float) -> None:
    bus.publish([sample("flypack_probe_up", {"flypack": "f", "device": device,
                                             "probe": "udp:7"}, v, t)])


def test_engine_holds_a_downstream_device_alarm_and_releases_it(tmp_path: Path) -> None:
    eng, bus = engine(tmp_path)
    eng.hold_devices({"rtr-01": "caused upstream by sw"}, 0.0)
    for t in (1.0, 2.0, 3.0):
        up(bus, "rtr-01", 0.0, t)
    assert eng.active() == [] and list(eng.held()) == ["unreachable/rtr-01/udp:7"]
    eng.hold_devices({}, 4.0)  # the switch is back, the router still does not answer
    (a,), = [eng.active()]
    assert a.key == "unreachable/rtr-01/udp:7" and a.raised_at == 4.0 and eng.held() == {}


def test_engine_drops_a_held_alarm_that_cleared_meanwhile(tmp_path: Path) -> None:
    eng, bus = engine(tmp_path)
    eng.hold_devices({"rtr-01": "x"}, 0.0)
    for t, v in ((1.0, 0.0), (2.0, 0.0), (3.0, 1.0), (4.0, 1.0)):
        up(bus, "rtr-01", v, t)
    assert eng.held() == {}
    eng.hold_devices({}, 5.0)
    assert eng.active() == [] and eng.query() == []


def test_engine_takes_back_an_active_alarm_once_explained(tmp_path: Path) -> None:
    eng, bus = engine(tmp_path)
    for t in (1.0, 2.0):
        up(bus, "rtr-01", 0.0, t)
    assert [a.key for a in eng.active()] == ["unreachable/rtr-01/udp:7"]
    eng.hold_devices({"rtr-01": "caused upstream by sw"}, 3.0)
    assert eng.active() == [] and eng.query()[0].cleared_at == 3.0
    # stream alarms (not probe rules) are never held, even when they name a device
    eng.raise_alarm("stream/s/path/rtr", "stream_path", Severity.major, "m", 4.0,
                    device="rtr-01", stream="s")
    eng.hold_devices({"rtr-01": "again"}, 5.0)
    assert [a.key for a in eng.active()] == ["stream/s/path/rtr"]
