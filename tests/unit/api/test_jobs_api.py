"""The jobs API without running ansible: the queue does not run here (no background tasks)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server_agent.runtime import Services


def _h(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_catalog_is_listed_for_viewers(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get("/api/v1/playbooks", headers=_h(tokens, "viewer"))
    assert r.status_code == 200
    names = [p["name"] for p in r.json()["playbooks"]]
    assert "encoder-restart" in names
    pb = next(p for p in r.json()["playbooks"] if p["name"] == "connectivity-check")
    assert pb["vars_schema"]["properties"]["count"]["maximum"] == 20


def test_post_queues_and_same_key_never_starts_a_second_job(
        client: TestClient, tokens: dict[str, str], services: Services) -> None:
    body = {"playbook": "encoder-restart", "limit": ["enc-01"], "vars": {}}
    h = {**_h(tokens, "operator"), "Idempotency-Key": "k-1"}
    r1 = client.post("/api/v1/jobs", json=body, headers=h)
    assert r1.status_code == 201, r1.text
    job = r1.json()
    assert job["status"] == "queued" and job["vars"] == {"only_if_stopped": False}
    r2 = client.post("/api/v1/jobs", json=body, headers=h)
    assert r2.status_code == 200 and r2.json()["id"] == job["id"]
    r3 = client.post("/api/v1/jobs", json={**body, "idempotency_key": "k-1"},
                     headers=_h(tokens, "operator"))
    assert r3.status_code == 200 and r3.json()["id"] == job["id"]
    r4 = client.post("/api/v1/jobs", json={**body, "vars": {"only_if_stopped": True}}, headers=h)
    assert r4.status_code == 409 and "another request" in r4.json()["detail"]
    jobs = client.get("/api/v1/jobs", headers=_h(tokens, "viewer")).json()["jobs"]
    assert [j["id"] for j in jobs] == [job["id"]]
    log = services.auth.audit_log()
    assert any(e["action"] == "job.start" and "encoder-restart" in str(e["detail"])
               and e["username"] == "operator" for e in log)


def test_role_too_low(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/jobs", json={"playbook": "encoder-restart"},
                    headers=_h(tokens, "viewer"))
    assert r.status_code == 403 and "operator" in r.json()["detail"]


def test_bad_requests_say_what_is_wrong_and_queue_nothing(
        client: TestClient, tokens: dict[str, str], services: Services) -> None:
    h = _h(tokens, "operator")
    cases = [
        ({"playbook": "nope"}, 404, "no playbook 'nope'"),
        ({"playbook": "connectivity-check", "vars": {"count": 0}}, 422, "vars.count"),
        ({"playbook": "connectivity-check", "vars": {"ansible_connection": "local"}}, 422,
         "reserved"),
        ({"playbook": "incident-snapshot", "vars": {"note": "{{ lookup('pipe', 'id') }}"}}, 422,
         "never templates"),
        ({"playbook": "encoder-restart", "limit": ["all"]}, 422, "not among"),
        ({"playbook": "encoder-restart", "limit": ["enc-01:!x"]}, 422, "plain host"),
        ({"playbook": "encoder-restart", "limit": ["ghost"]}, 422, "not a host"),
    ]
    for body, status, text in cases:
        r = client.post("/api/v1/jobs", json=body, headers=h)
        assert r.status_code == status, (body, r.text)
        assert text in r.json()["detail"] and r.json()["hint"], r.json()
    assert services.jobs is not None and services.jobs.query() == []
    assert not any(e["action"] == "job.start" for e in services.auth.audit_log())


def test_cancel_a_queued_job_and_read_events(client: TestClient, tokens: dict[str, str],
                                             services: Services) -> None:
    h = _h(tokens, "operator")
    job = client.post("/api/v1/jobs", json={"playbook": "encoder-restart"}, headers=h).json()
    r = client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    assert "operator" in r.json()["reason"]
    again = client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=h)
    assert again.status_code == 409
    ev = client.get(f"/api/v1/jobs/{job['id']}/events", headers=_h(tokens, "viewer"))
    assert ev.status_code == 200 and ev.json() == {"job": job["id"], "events": [],
                                                   "next_after": None}
    assert client.get("/api/v1/jobs/999", headers=h).status_code == 404
    actions = [e["action"] for e in services.auth.audit_log()]
    assert "job.cancel" in actions and "job.end" in actions


def test_running_jobs_become_interrupted_at_start_up(services: Services) -> None:
    from server_agent.contract import JobStatus
    from server_agent.jobs.service import JobService

    assert services.jobs is not None
    store = services.jobs.store
    job = store.add("encoder-restart", "operator", [], {}, None, "h")
    store.mark_running(job.id, "/nonexistent")
    store.set_pid(job.id, 999999)
    JobService(services.config, services.jobs.catalog, store, services.bus, services.auth,
               services.credentials, services.devices)
    after = store.get(job.id)
    assert after is not None and after.status is JobStatus.interrupted
    assert "agent stopped" in after.reason
