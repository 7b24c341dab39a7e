"""The fault-injection API through the app (the segment bound but not started)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.config import parse_config
from server_agent.contract import Role
from server_agent.runtime import Services, build_services
from tests.sim_support import sim_section
from tests.support import PASSWORDS, require_binary


@pytest.fixture
def sim_services(tmp_path: Path) -> Iterator[Services]:
    sim = sim_section(streams=3).model_dump(mode="json", exclude_none=True)
    cfg = parse_config({"agent": {"state_dir": str(tmp_path / "state")}, "sim": sim})
    svc = build_services(cfg)
    for role, pw in PASSWORDS.items():
        svc.auth.add_user(role, Role(role), pw)
    yield svc
    assert svc.sim is not None
    for dev in svc.sim.services.values():
        dev.close_sockets()


@pytest.fixture
def api(sim_services: Services) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with TestClient(create_app(sim_services, run_background=False)) as c:
        hdr = {}
        for role, pw in PASSWORDS.items():
            tok = c.post("/api/v1/auth/login", json={"username": role, "password": pw})
            hdr[role] = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        yield c, hdr


def test_registered_devices_and_streams(sim_services: Services) -> None:
    names = {d.name for d in sim_services.devices.targets()}
    assert {"enc-01", "rtr-01", "ep-020"} <= names and len(names) == 40
    enc = next(d for d in sim_services.devices.targets() if d.name == "enc-01")
    assert enc.probes == ["icmp", "udp:17007", "tcp:18023"]
    # the three streams need ffmpeg (or its cached clip): a missing ffmpeg must not hide them
    require_binary("ffmpeg")
    assert sim_services.sim is not None and len(sim_services.sim.streams()) == 3
    assert [s.id for s in sim_services.streams] == ["sim-enc-01", "sim-enc-02", "sim-enc-03"]
    assert sim_services.streams[0].legs[0].startswith("udp://@127.")


def test_roles_and_validation(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    c, h = api
    assert c.get("/api/v1/sim/devices").status_code == 401
    devs = c.get("/api/v1/sim/devices", headers=h["viewer"])
    assert devs.status_code == 200 and len(devs.json()) == 40
    enc = next(d for d in devs.json() if d["name"] == "enc-01")
    assert enc["http_port"] == 18080 and enc["echo_port"] == 17007 and enc["sys_object_id"]
    body = {"latency_ms": 30, "loss_ratio": 0.25}
    r = c.put("/api/v1/sim/faults/enc-01", json=body, headers=h["viewer"])
    assert r.status_code == 403 and r.json()["hint"]
    r = c.put("/api/v1/sim/faults/enc-01", json=body, headers=h["operator"])
    assert r.status_code == 200 and r.json()["fault"]["loss_ratio"] == 0.25
    faults = c.get("/api/v1/sim/faults", headers=h["viewer"]).json()
    assert faults == [{"device": "enc-01", "fault": {**r.json()["fault"]}}]

    r = c.put("/api/v1/sim/faults/enc-99", json=body, headers=h["operator"])
    assert r.status_code == 404 and "enc-99" in r.json()["detail"]
    r = c.put("/api/v1/sim/faults/enc-01", json={"loss_ratio": 2}, headers=h["operator"])
    assert r.status_code == 422 and "loss_ratio" in r.json()["detail"]
    r = c.put("/api/v1/sim/faults/ep-001", json={"ts_errors": {"drop_per_s": 5}},
              headers=h["operator"])
    assert r.status_code == 422 and "no stream" in r.json()["detail"]

    assert c.delete("/api/v1/sim/faults/enc-01", headers=h["viewer"]).status_code == 403
    assert c.delete("/api/v1/sim/faults/enc-01", headers=h["operator"]).status_code == 204
    c.put("/api/v1/sim/faults/rtr-01", json={"down": True}, headers=h["admin"])
    assert c.delete("/api/v1/sim/faults", headers=h["operator"]).status_code == 204
    assert c.get("/api/v1/sim/faults", headers=h["viewer"]).json() == []


def test_not_mounted_without_the_simulator(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get("/api/v1/sim/devices", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert r.status_code == 404
