"""Overview tiles (worst first, stale/unreachable never healthy, drill-down target) and the
schema form's validation."""

from __future__ import annotations

from desktop.model.overview import FlypackSnapshot, Level, order_tiles, summarize
from desktop.model.schema_form import form_fields, validate
from server_agent.contract import Alarm, Device, DeviceRole, ProbeStatus, Severity, Stream


def dev(name: str, up: bool | None, rtt: float | None = 1.0) -> Device:
    return Device(id=name, name=name, role=DeviceRole.encoder, address="127.0.0.1",
                  probes=[ProbeStatus(probe="tcp:1", up=up, rtt_ms=rtt if up else None,
                                      jitter_ms=None, loss_ratio=0.0 if up else 1.0)])


def snap(**kw: object) -> FlypackSnapshot:
    s = FlypackSnapshot(flypack="fp", url="http://x", t=1000.0)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_tile_counts_and_targets() -> None:
    ok = summarize("u", "fp", snap(devices=[dev("a", True, 2.0), dev("b", True, 9.5)],
                                   streams=[], alarms=[], jobs_running=0), now=1001)
    assert ok.level is Level.ok and ok.devices_up == 2 and ok.worst_rtt_ms == 9.5
    assert ok.worst_device == "b" and ok.target.tab == "streams"

    down = summarize("u", "fp", snap(devices=[dev("a", True), dev("b", False)]), now=1001)
    assert down.level is Level.degraded and down.devices_down == 1
    assert down.target.tab == "devices" and down.target.item == "b"

    stream = Stream(id="s1", title="", state="alarm", alarms=["cc_error"])
    bad = summarize("u", "fp", snap(devices=[dev("b", False)], streams=[stream]), now=1001)
    assert bad.level is Level.critical and bad.target.tab == "streams"
    assert bad.target.item == "s1" and bad.streams_alarm == 1
    assert bad.target.why == "cc_error"
    stream.first_failing_hop = "wan"  # an agent with paths: the drill-down names the hop
    bad = summarize("u", "fp", snap(devices=[dev("b", False)], streams=[stream]), now=1001)
    assert bad.target.why == "cc_error; first failing hop: wan"

    alarm = Alarm(id=5, key="k", rule="r", severity=Severity.critical, device="b",
                  message="b is down", active=True, raised_at=999.0)
    crit = summarize("u", "fp", snap(devices=[dev("b", False)], streams=[stream],
                                     alarms=[alarm]), now=1001)
    assert crit.target.tab == "alarms" and crit.target.item == 5


def test_stale_and_unreachable_are_never_healthy() -> None:
    s = snap(devices=[dev("a", True)])
    assert summarize("u", "fp", s, now=1000 + 60).level is Level.stale
    gone = summarize("u", "fp", s, now=1001, error="cannot reach the agent")
    assert gone.level is Level.unreachable and gone.headline.startswith("UNREACHABLE")
    assert summarize("u", "fp", None, now=1, error="x").level is Level.unreachable
    assert summarize("u", "fp", None, now=1, logged_in=False).target.tab == "login"
    tiles = order_tiles([summarize("a", "a", s, now=1001), gone,
                         summarize("c", "c", s, now=1100)])
    assert [t.level for t in tiles] == [Level.unreachable, Level.stale, Level.ok]


def test_schema_form_fields_and_validation() -> None:
    schema = {"type": "object", "required": ["group"], "properties": {
        "group": {"enum": ["encoders", "routers"]}, "fix": {"type": "boolean"},
        "count": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        "ports": {"type": "array", "items": {"type": "integer"}},
        "hosts": {"type": "array", "items": {"enum": ["a", "b"]}},
        "note": {"type": "string", "maxLength": 5}}}
    kinds = {f.name: f.kind for f in form_fields(schema)}
    assert kinds == {"group": "choice", "fix": "toggle", "count": "stepper", "ports": "list",
                     "hosts": "multi", "note": "text"}
    fields = form_fields(schema)
    values, errors = validate(fields, {"group": "routers", "count": 4, "ports": "22, 80",
                                       "hosts": ["a"], "note": "ok"})
    assert not errors and values["ports"] == [22, 80]
    bad = {"count": 11, "ports": "22, x", "note": "{{ lookup('pipe','id') }}"}
    _, errors = validate(fields, bad)
    assert set(errors) == {"group", "count", "ports", "note"}
