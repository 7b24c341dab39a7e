from __future__ import annotations

from fastapi.testclient import TestClient

from server_agent.contract import AlarmList, ErrorBody, Severity
from server_agent.runtime import Services


def _auth(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def _raise(services: Services, key: str, severity: Severity = Severity.critical,
           device: str = "enc-01") -> int:
    assert services.alarms is not None
    a = services.alarms.raise_alarm(key, key.split("/")[0], severity, f"{device}: {key}", 100.0,
                                    device=device)
    return a.id


def test_services_wire_probes_and_alarms(services: Services) -> None:
    assert services.alarms is not None and services.probes is not None
    assert services.tasks["probes"] == services.probes.run
    assert services.tasks["alarms"] == services.alarms.run


def test_list_and_filter(client: TestClient, tokens: dict[str, str],
                         services: Services) -> None:
    r = client.get("/api/v1/alarms", headers=_auth(tokens, "viewer"))
    assert r.status_code == 200 and r.json() == {"alarms": []}
    _raise(services, "unreachable/enc-01/tcp:9")
    lid = _raise(services, "loss/enc-02/icmp", Severity.major, "enc-02")
    assert services.alarms is not None
    services.alarms.clear_alarm("loss/enc-02/icmp", 200.0)
    h = _auth(tokens, "viewer")
    body = AlarmList.model_validate(client.get("/api/v1/alarms", headers=h).json())
    assert len(body.alarms) == 2
    active = client.get("/api/v1/alarms?active=true", headers=h).json()["alarms"]
    assert [a["key"] for a in active] == ["unreachable/enc-01/tcp:9"]
    cleared = client.get("/api/v1/alarms?active=false", headers=h).json()["alarms"]
    assert [a["id"] for a in cleared] == [lid] and cleared[0]["cleared_at"] == 200.0
    assert len(client.get("/api/v1/alarms?severity=major", headers=h).json()["alarms"]) == 1
    assert len(client.get("/api/v1/alarms?device=enc-01", headers=h).json()["alarms"]) == 1
    assert len(client.get("/api/v1/alarms?limit=1", headers=h).json()["alarms"]) == 1
    r = client.get("/api/v1/alarms?severity=fatal", headers=h)
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"


def test_ack_needs_operator_and_is_idempotent(client: TestClient, tokens: dict[str, str],
                                               services: Services) -> None:
    aid = _raise(services, "unreachable/enc-01/tcp:9")
    r = client.post(f"/api/v1/alarms/{aid}/ack", headers=_auth(tokens, "viewer"))
    assert r.status_code == 403 and "operator" in r.json()["detail"]
    assert client.post(f"/api/v1/alarms/{aid}/ack").status_code == 401
    r = client.post(f"/api/v1/alarms/{aid}/ack", headers=_auth(tokens, "operator"))
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["acked_by"] == "operator" and first["acked_at"] is not None
    r = client.post(f"/api/v1/alarms/{aid}/ack", headers=_auth(tokens, "admin"))
    assert r.status_code == 200 and r.json() == first


def test_ack_of_an_unknown_alarm_is_a_clear_404(client: TestClient,
                                                tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/alarms/4242/ack", headers=_auth(tokens, "operator"))
    assert r.status_code == 404
    err = ErrorBody.model_validate(r.json())
    assert err.error == "not_found" and "4242" in err.detail and "/api/v1/alarms" in err.hint
