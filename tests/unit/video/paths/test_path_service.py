"""Paths in the stream service: validation on create/patch, the path in GET, the hop metric,
and the stream's alarms correlated to the first failing hop (no HTTP for the latter)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server_agent.contract import ProbeStatus, StreamSpec
from server_agent.runtime import Services

PATH = [{"name": "enc", "kind": "device", "device": "enc-01"},
        {"name": "wan", "kind": "link", "leg": 1},
        {"name": "agent", "kind": "analysis"}]


def test_api_validates_and_shows_the_path(client: TestClient, tokens: dict[str, str]) -> None:
    op = {"Authorization": f"Bearer {tokens['operator']}"}
    r = client.post("/api/v1/streams", headers=op,
                    json={"id": "cam-1", "legs": ["udp://@:5999"], "path": PATH})
    assert r.status_code == 201, r.text
    body = r.json()
    assert [h["name"] for h in body["path"]] == ["enc", "wan", "agent"]
    assert {h["state"] for h in body["path"]} == {"unknown"}
    assert body["first_failing_hop"] is None
    bad = client.post("/api/v1/streams", headers=op, json={
        "id": "cam-2", "legs": ["udp://@:5998"],
        "path": [{"name": "sw", "kind": "device", "device": "sw-42"}]})
    assert bad.status_code == 422
    assert "device 'sw-42' is not in the inventory" in bad.json()["detail"]
    assert "enc-01" in bad.json()["detail"]  # the hint lists known devices
    r = client.patch("/api/v1/streams/cam-1", headers=op,
                     json={"path": [{"name": "b", "kind": "link", "leg": 2}]})
    assert r.status_code == 422 and "leg 2 does not exist" in r.json()["detail"]
    r = client.patch("/api/v1/streams/cam-1", headers=op,
                     json={"path": [*PATH, {"name": "wan", "kind": "link"}]})
    assert r.status_code == 422 and "used twice" in r.json()["detail"]


def set_enc(services: Services, up: bool) -> None:
    services.devices.set_probe_status("enc-01", ProbeStatus(
        probe="tcp:9", up=up, rtt_ms=1.0 if up else None, jitter_ms=None,
        loss_ratio=0.0 if up else 1.0))


def test_first_failing_hop_and_correlated_alarms(services: Services) -> None:
    svc, alarms = services.stream_service, services.alarms
    assert svc is not None and alarms is not None
    svc.create(StreamSpec.model_validate({"id": "s1", "title": "Cam 1",
                                          "legs": ["udp://@:5997"], "path": PATH}))
    ls = svc.streams["s1"]
    set_enc(services, up=False)
    ls.active["no_signal"] = "no datagrams on leg 1"  # what the live analysis would say
    svc._judge_paths(100.0)
    svc._judge_paths(103.0)  # past the leg's first-datagram grace
    st = svc.get("s1")
    assert st.first_failing_hop == "enc"
    assert [h.state for h in st.path] == ["failing", "caused_upstream", "caused_upstream"]
    keys = {a.key: a for a in alarms.active()}
    assert set(keys) == {"stream/s1/path/enc"}, keys  # no stream/s1/no_signal of its own
    a = keys["stream/s1/path/enc"]
    assert a.rule == "stream_path" and a.device == "enc-01" and a.stream == "s1"
    assert a.severity == "critical" and "first failing hop enc" in a.message
    lab = {"flypack": "flypack-test", "stream": "s1"}
    assert services.bus.latest("flypack_stream_hop_ok", {**lab, "hop": "enc"}) == 0.0
    set_enc(services, up=True)  # the encoder answers again; the stream is still silent
    svc._judge_paths(104.0)
    assert svc.get("s1").first_failing_hop == "enc"  # held: a cause outlives its symptoms
    svc._judge_paths(111.0)  # clear_after_s (5) + the margin (2) later
    st = svc.get("s1")
    assert st.first_failing_hop == "wan" and st.path[0].state == "ok"
    assert services.bus.latest("flypack_stream_hop_ok", {**lab, "hop": "enc"}) == 1.0
    assert {a.key for a in alarms.active()} == {"stream/s1/path/wan"}
    ls.active.clear()
    svc._judge_paths(112.0)
    assert svc.get("s1").first_failing_hop == "wan"  # still silent, but no symptom left
    assert alarms.active() == []  # to explain downstream: the path alarm cleared
    ls.active["bitrate"] = "bitrate 1.00 Mb/s outside the expected range"
    svc._judge_paths(113.0)
    assert [a.key for a in alarms.active()] == ["stream/s1/path/wan"]
    svc._remove("s1")
    assert alarms.active() == []


def test_stream_without_path_keeps_its_own_alarms(services: Services) -> None:
    svc, alarms = services.stream_service, services.alarms
    assert svc is not None and alarms is not None
    svc.create(StreamSpec(id="s2", legs=["udp://@:5996"]))
    svc.streams["s2"].active["no_signal"] = "no datagrams on leg 1"
    svc._judge_paths(100.0)
    assert [a.key for a in alarms.active()] == ["stream/s2/no_signal"]
    assert svc.get("s2").path == [] and svc.get("s2").first_failing_hop is None
    svc.streams["s2"].active.clear()
    svc._judge_paths(101.0)
    assert alarms.active() == []


def test_path_alarm_escalates_when_a_worse_symptom_joins(services: Services) -> None:
    svc, alarms = services.stream_service, services.alarms
    assert svc is not None and alarms is not None
    svc.create(StreamSpec.model_validate({"id": "s3", "legs": ["udp://@:5995"],
                                          "path": PATH}))
    set_enc(services, up=False)
    ls = svc.streams["s3"]
    ls.active["bitrate"] = "bitrate 1.00 Mb/s outside the expected range"
    svc._judge_paths(100.0)
    assert [a.severity for a in alarms.active()] == ["major"]
    ls.active["no_signal"] = "no datagrams on leg 1"
    svc._judge_paths(101.0)
    (a,) = alarms.active()
    assert a.severity == "critical" and a.key == "stream/s3/path/enc"
    assert "bitrate, no_signal" in a.message
    assert [x.severity for x in alarms.query(active=False)] == ["major"]
