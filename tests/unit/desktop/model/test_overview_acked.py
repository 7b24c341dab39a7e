"""Issue 14, finding 5: a tile said "OK — all OK" beside "1 active alarms" (an acknowledged
one). The tile says what is active and what of it is acknowledged, in correct English."""

from __future__ import annotations

from desktop.model.overview import FlypackSnapshot, Level, plural, summarize
from server_agent.contract import Alarm, Device, DeviceRole, ProbeStatus, Severity


def dev(name: str) -> Device:
    return Device(id=name, name=name, role=DeviceRole.encoder, address="127.0.0.1",
                  probes=[ProbeStatus(probe="tcp:1", up=True, rtt_ms=1.0, jitter_ms=None,
                                      loss_ratio=0.0)])


def alarm(i: int, severity: Severity, acked: bool) -> Alarm:
    return Alarm(id=i, key=f"k{i}", rule="r", severity=severity, device="a",
                 message=f"a answers in 80 ms (alarm {i})", active=True, raised_at=990.0 + i,
                 acked_by="operator" if acked else None, acked_at=995.0 if acked else None)


def tile(*alarms: Alarm):  # type: ignore[no-untyped-def]
    s = FlypackSnapshot("fp", "http://x", 1000.0, devices=[dev("a")], streams=[],
                        alarms=list(alarms), jobs_running=0)
    return summarize("http://x", "fp", s, now=1001)


def test_an_acknowledged_alarm_is_never_all_ok() -> None:
    t = tile(alarm(1, Severity.major, acked=True))
    assert t.level is Level.ok  # someone is on it: not a new problem
    assert t.headline == ("1 acknowledged alarm still active — major: a answers in 80 ms "
                          "(alarm 1)")
    assert "all OK" not in t.headline
    assert t.alarms_active == 1 and t.alarms_acked == 1
    assert t.alarm_summary == "1 active alarm (acknowledged)"
    assert t.target.tab == "alarms" and t.target.item == 1


def test_active_and_acknowledged_counted_apart() -> None:
    assert tile().alarm_summary == "no active alarms"
    assert tile().headline == "all OK"
    assert tile(alarm(1, Severity.minor, False)).alarm_summary == \
        "1 active alarm (unacknowledged)"
    both = tile(alarm(1, Severity.minor, False), alarm(2, Severity.minor, False),
                alarm(3, Severity.critical, True))
    assert both.alarm_summary == "3 active alarms (2 unacknowledged, 1 acknowledged)"
    assert both.level is Level.warning and both.headline.startswith("minor:")
    two = tile(alarm(1, Severity.minor, True), alarm(2, Severity.major, True))
    assert two.alarm_summary == "2 active alarms (acknowledged)"
    assert two.headline.startswith("2 acknowledged alarms still active — major:")


def test_plural() -> None:
    assert [plural(n, "job") for n in (0, 1, 2)] == ["0 jobs", "1 job", "2 jobs"]
