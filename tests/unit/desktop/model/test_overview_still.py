"""Issue 14, finding 5: the "opened at the most severe problem" note stayed after the problem
cleared. The note goes when what it points at is no longer a problem, and only then: a newer
or worse problem elsewhere does not take it away."""

from __future__ import annotations

from desktop.model.overview import FlypackSnapshot, still_a_problem
from server_agent.contract import Alarm, Device, DeviceRole, ProbeStatus, Severity, Stream


def dev(name: str, up: bool) -> Device:
    return Device(id=name, name=name, role=DeviceRole.encoder, address="127.0.0.1",
                  probes=[ProbeStatus(probe="tcp:1", up=up, rtt_ms=1.0 if up else None,
                                      jitter_ms=None, loss_ratio=0.0 if up else 1.0)])


def alarm(i: int, active: bool, acked: bool = False) -> Alarm:
    return Alarm(id=i, key=f"k{i}", rule="r", severity=Severity.critical, device="enc-02",
                 message="enc-02 does not answer", active=active, raised_at=990.0 + i,
                 acked_at=995.0 if acked else None)


def snap(**kw: object) -> FlypackSnapshot:
    s = FlypackSnapshot("fp", "http://x", 1000.0)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_an_alarm_is_a_problem_until_it_clears() -> None:
    assert still_a_problem(snap(alarms=[alarm(5, True)]), "alarms", 5)
    assert still_a_problem(snap(alarms=[alarm(5, True, acked=True)]), "alarms", 5)
    newer = snap(alarms=[alarm(5, True), alarm(9, True)])  # a newer one is worse: still there
    assert still_a_problem(newer, "alarms", 5)
    assert not still_a_problem(snap(alarms=[alarm(5, False), alarm(9, True)]), "alarms", 5)
    assert not still_a_problem(snap(alarms=[]), "alarms", 5)


def test_streams_and_devices() -> None:
    bad = Stream(id="s1", title="", state="alarm", alarms=["no_signal"])
    good = Stream(id="s1", title="", state="ok")
    assert still_a_problem(snap(streams=[bad]), "streams", "s1")
    assert not still_a_problem(snap(streams=[good]), "streams", "s1")
    assert still_a_problem(snap(devices=[dev("enc-02", False)]), "devices", "enc-02")
    assert not still_a_problem(snap(devices=[dev("enc-02", True)]), "devices", "enc-02")
    assert not still_a_problem(snap(), "streams", None)
