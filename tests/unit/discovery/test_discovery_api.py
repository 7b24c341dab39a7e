"""The discovery API over a real loopback sweep (TCP on 127.89.0.0/29; no privileges)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.contract import Role
from server_agent.runtime import build_services
from tests.support import PASSWORDS, free_port
from tests.unit.conftest import make_config

ADDR = "127.89.0.2"


@pytest.fixture
def listener() -> Iterator[int]:
    port = free_port(ADDR)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ADDR, port))
    s.listen(16)
    yield port
    s.close()


EVENTS: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def api(tmp_path: Path, listener: int) -> Iterator[tuple[TestClient, dict[str, str]]]:
    cfg = make_config(tmp_path, devices=[{"name": "enc-01", "address": "127.0.0.1",
                                          "probes": ["tcp:9"]}],
                      discovery={"tcp_ports": [listener], "snmp_port": free_port(
                          kind=socket.SOCK_DGRAM), "snmp_timeout_s": 0.2, "wait_s": 0.1,
                          "tcp_timeout_s": 0.3})
    svc = build_services(cfg)
    EVENTS.clear()
    svc.bus.add_event_listener(lambda kind, data: EVENTS.append((kind, data)))
    for role, pw in PASSWORDS.items():
        svc.auth.add_user(role, Role(role), pw)
    with TestClient(create_app(svc, run_background=False)) as c:
        tokens = {}
        for role, pw in PASSWORDS.items():
            r = c.post("/api/v1/auth/login", json={"username": role, "password": pw})
            tokens[role] = r.json()["access_token"]
        yield c, {r: f"Bearer {t}" for r, t in tokens.items()}


def _wait(c: TestClient, h: dict[str, str], run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = c.get(f"/api/v1/discovery/runs/{run_id}", headers=h)
        assert r.status_code == 200
        if r.json()["state"] != "running":
            return dict(r.json())
        time.sleep(0.1)
    raise AssertionError("run did not finish")


def test_run_finds_device_then_overrides_and_filters(
        api: tuple[TestClient, dict[str, str]], tmp_path: Path) -> None:
    c, tok = api
    op = {"Authorization": tok["operator"]}
    r = c.post("/api/v1/discovery/runs", json={"networks": ["127.89.0.0/29"]}, headers=op)
    assert r.status_code == 202, r.text
    run = _wait(c, op, r.json()["id"])
    assert run["state"] == "done" and run["found"] == 1 and run["total"] == 6
    assert [e["kind"] for e in run["events"]] == ["new"]
    dev_id = run["devices"][0]
    # progress and results went out on the live bus (-> WebSocket subscribers)
    kinds = [k for k, _ in EVENTS]
    assert "discovery.progress" in kinds and kinds[-1] == "discovery.finished"
    assert ("discovery.device", {"run": run["id"], "device": dev_id, "kind": "new",
                                 "detail": run["events"][0]["detail"]}) in EVENTS
    last = [d for k, d in EVENTS if k == "discovery.progress"][-1]
    assert last["found"] == 1 and last["total"] == 6
    r = c.get("/api/v1/devices", params={"source": "discovery"}, headers=op)
    [dev] = r.json()
    assert (dev["id"], dev["address"], dev["found_by"]) == (dev_id, ADDR, ["tcp"])
    assert dev["probes"] == [] or dev["probes"][0]["probe"].startswith("tcp:")
    r = c.patch(f"/api/v1/devices/{dev_id}", json={"name": "gfx-pc", "role": "endpoint",
                                                   "notes": "FOH"}, headers=op)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["role"], r.json()["overrides"]) == (
        "gfx-pc", "endpoint", ["name", "role", "notes"])
    # filters
    assert [d["id"] for d in c.get("/api/v1/devices", params={"role": "endpoint"},
                                   headers=op).json()] == [dev_id]
    assert c.get("/api/v1/devices", params={"q": "gfx"}, headers=op).json()[0]["id"] == dev_id
    assert len(c.get("/api/v1/devices", params={"network": "127.89.0.0/29"},
                     headers=op).json()) == 1
    assert c.get("/api/v1/devices", params={"network": "nope"}, headers=op).status_code == 422
    # a second sweep keeps the override; the exports follow the inventory
    run2 = _wait(c, op, c.post("/api/v1/discovery/runs", json={"networks": ["127.89.0.0/29"]},
                               headers=op).json()["id"])
    assert run2["events"] == []
    assert c.get(f"/api/v1/devices/{dev_id}", headers=op).json()["name"] == "gfx-pc"
    ansible = (tmp_path / "state" / "inventory" / "ansible.yml").read_text()
    assert "gfx-pc" in ansible and "endpoints" in ansible


def test_bad_requests_get_clear_errors(api: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = api
    op = {"Authorization": tok["operator"]}
    r = c.post("/api/v1/discovery/runs", json={"networks": ["10.0.0.0/33"]}, headers=op)
    assert r.status_code == 422 and "not a CIDR" in r.json()["detail"]
    r = c.post("/api/v1/discovery/runs", json={"networks": ["127.0.0.0/8"]}, headers=op)
    assert r.status_code == 422 and "confirm" in r.json()["detail"]
    r = c.post("/api/v1/discovery/runs", json={}, headers=op)
    assert r.status_code == 422 and "[[networks]]" in r.json()["detail"]
    assert c.get("/api/v1/discovery/runs/r-x", headers=op).status_code == 404
    assert c.patch("/api/v1/devices/d-nope", json={}, headers=op).status_code == 404
    r = c.patch("/api/v1/devices/enc-01", json={"role": "wizard"}, headers=op)
    assert r.status_code == 422


def test_a_run_can_be_cancelled_and_only_one_runs(
        api: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = api
    op = {"Authorization": tok["operator"]}
    r = c.post("/api/v1/discovery/runs", json={"networks": ["127.89.4.0/22"], "rate_pps": 20},
               headers=op)
    assert r.status_code == 202
    run_id = r.json()["id"]
    r = c.post("/api/v1/discovery/runs", json={"networks": ["127.89.0.0/30"]}, headers=op)
    assert r.status_code == 409 and run_id in r.json()["detail"]
    assert c.post(f"/api/v1/discovery/runs/{run_id}/cancel",
                  headers={"Authorization": tok["viewer"]}).status_code == 403
    assert c.post(f"/api/v1/discovery/runs/{run_id}/cancel", headers=op).status_code == 200
    run = _wait(c, op, run_id)
    assert run["state"] == "cancelled" and run["error"]
