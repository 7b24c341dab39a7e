"""Fleet file, secret store (keyring refusal), fingerprints and the lenient jobs client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from keyring.backends import fail

from desktop.client import (
    AgentClient,
    FeatureUnavailable,
    FleetEntry,
    FleetFile,
    JobsApi,
    SecretStore,
    backend_problem,
    fingerprint,
)


class MemoryKeyring:
    """Stands in for a real OS keyring (module name is not refused)."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, key: str, secret: str) -> None:
        self.data[(service, key)] = secret

    def get_password(self, service: str, key: str) -> str | None:
        return self.data.get((service, key))

    def delete_password(self, service: str, key: str) -> None:
        self.data.pop((service, key), None)


class PlaintextKeyring:  # what keyrings.alt.file.PlaintextKeyring looks like to us
    pass


PlaintextKeyring.__module__ = "keyrings.alt.file"


class Chainer:
    def __init__(self, backends: list[Any]) -> None:
        self.backends = backends


def test_keyring_backends_refused_and_accepted() -> None:
    assert backend_problem(fail.Keyring()) is not None
    assert "file" in (backend_problem(PlaintextKeyring()) or "")
    assert backend_problem(Chainer([])) is not None
    assert backend_problem(Chainer([MemoryKeyring(), PlaintextKeyring()])) is not None
    assert backend_problem(MemoryKeyring()) is None


def test_secret_store_never_persists_without_a_real_keyring(tmp_path: Path) -> None:
    store = SecretStore(fail.Keyring())
    assert not store.persistent
    assert store.put("k", "refresh-1", persist=True) == "session"
    assert store.get("k") == "refresh-1"
    store.delete("k")
    assert store.get("k") is None
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere we can see

    kr = MemoryKeyring()
    good = SecretStore(kr)
    assert good.put("k", "refresh-2", persist=True) == "keyring"
    assert kr.data == {("flypack-desktop", "k"): "refresh-2"}
    assert SecretStore(kr).get("k") == "refresh-2"  # survives a "restart"
    assert good.put("m", "x", persist=False) == "session" and ("flypack-desktop", "m") \
        not in kr.data


def test_fleet_file_roundtrip_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "fleet.json"
    fleet = FleetFile.load(path)
    assert fleet.entries == []
    fleet.add(FleetEntry("127.0.0.1:8443", "operator", "AA:BB", "PEM", "north"))
    fleet.add(FleetEntry("https://127.0.0.2:8443", "viewer"))
    again = FleetFile.load(path)
    assert [e.url for e in again.entries] == ["http://127.0.0.1:8443", "https://127.0.0.2:8443"]
    assert again.entries[0].pin == ("AA:BB", "PEM") and again.entries[1].pin is None
    assert "token" not in path.read_text() and "password" not in path.read_text()
    again.remove("http://127.0.0.1:8443")
    assert [e.username for e in FleetFile.load(path).entries] == ["viewer"]
    path.write_text("{not json")
    with pytest.raises(Exception, match="fleet list"):
        FleetFile.load(path)


def test_fingerprint_format_matches_openssl() -> None:
    fp = fingerprint(b"hello")
    assert fp == ":".join(["2C", "F2", "4D", "BA", "5F", "B0", "A3", "0E", "26", "E8", "3B",
                           "2A", "C5", "B9", "E2", "9E", "1B", "16", "1E", "5C", "1F", "A7",
                           "42", "5E", "73", "04", "33", "62", "93", "8B", "98", "24"])


def _jobs_client(routes: dict[tuple[str, str], httpx.Response]) -> AgentClient:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.endswith("/auth/login"):
            return httpx.Response(200, json={"access_token": "a", "refresh_token": "r",
                                             "expires_in": 900, "role": "operator",
                                             "username": "op"})
        resp = routes.get((req.method, req.url.path.removeprefix("/api/v1")))
        return resp or httpx.Response(404, json={"error": "not_found", "detail": "Not Found"})

    return AgentClient("http://agent.test", transport=httpx.MockTransport(handler))


async def test_jobs_api_absent_is_feature_unavailable() -> None:
    client = _jobs_client({})
    await client.login("op", "pw")
    jobs = JobsApi(client)
    with pytest.raises(FeatureUnavailable, match="jobs API"):
        await jobs.playbooks()
    assert jobs.available is False


async def test_jobs_api_parses_the_agent_contract() -> None:
    playbooks = {"playbooks": [{"name": "connectivity-check", "title": "Connectivity",
                                "role": "operator", "targets": ["encoders"],
                                "timeout_s": 120, "changes_devices": False,
                                "vars_schema": {"type": "object", "properties": {
                                    "count": {"type": "integer", "minimum": 1}}}}]}
    job = {"id": 7, "playbook": "connectivity-check", "status": "running", "user": "op",
           "limit": [], "vars": {}, "created": 100.0, "stats": {}}
    events = {"job": 7, "next_after": None, "events": [
        {"seq": 1, "t": 1.0, "event": "runner_on_ok", "host": "enc-01", "task": "Probe",
         "stdout": "ok: [enc-01]"}]}
    client = _jobs_client({
        ("GET", "/playbooks"): httpx.Response(200, json=playbooks),
        ("POST", "/jobs"): httpx.Response(201, json=job),
        ("GET", "/jobs/7/events"): httpx.Response(200, json=events),
        ("GET", "/jobs"): httpx.Response(200, json={"jobs": [job]}),
    })
    await client.login("op", "pw")
    api = JobsApi(client)
    pb = (await api.playbooks())[0]
    assert pb.schema["properties"]["count"]["minimum"] == 1 and pb.targets == ["encoders"]
    started = await api.start("connectivity-check", {"count": 2}, idempotency_key="k1")
    assert started.id == "7" and not started.done and started.created_at == 100.0
    ev = (await api.events("7"))[0]
    assert ev.line() == "[enc-01] ok: [enc-01]"
    assert [j.status for j in await api.jobs()] == ["running"]
    assert json.dumps(pb.schema)


async def test_resume_with_stored_refresh_token_and_rotation() -> None:
    seen: list[str | None] = []

    def handler(req: httpx.Request) -> httpx.Response:
        body = json.loads(req.content or b"{}")
        if req.url.path.endswith("/auth/refresh"):
            if body.get("refresh_token") != "stored-1":
                return httpx.Response(401, json={"error": "unauthorized", "detail": "expired"})
            return httpx.Response(200, json={"access_token": "a2", "refresh_token": "rotated-2",
                                             "expires_in": 900, "role": "operator",
                                             "username": "op"})
        return httpx.Response(404, json={"error": "not_found", "detail": "Not Found"})

    client = AgentClient("http://agent.test", transport=httpx.MockTransport(handler),
                         on_session=lambda s: seen.append(s.refresh_token if s else None))
    session = await client.resume("op", "stored-1")
    assert session.access_token == "a2" and seen == ["rotated-2"]  # the new one gets stored
    client.logout()
    assert seen[-1] is None
    with pytest.raises(Exception, match="expired"):
        await client.resume("op", "old")
