from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.config import AgentConfig, parse_config
from server_agent.contract import Role
from server_agent.runtime import Services, build_services
from tests.support import PASSWORDS


def make_config(tmp_path: Path, **tables: object) -> AgentConfig:
    data: dict[str, object] = {"agent": {"state_dir": str(tmp_path / "state"),
                                         "flypack": "flypack-test"}}
    data.update(tables)
    return parse_config(data)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    cfg = make_config(tmp_path, devices=[
        {"name": "enc-01", "address": "127.0.0.1", "role": "encoder", "probes": ["tcp:9"]},
    ])
    svc = build_services(cfg)
    for role, pw in PASSWORDS.items():
        svc.auth.add_user(role, Role(role), pw)
    yield svc


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app = create_app(services, run_background=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def tokens(client: TestClient) -> dict[str, str]:
    out = {}
    for role, pw in PASSWORDS.items():
        r = client.post("/api/v1/auth/login", json={"username": role, "password": pw})
        assert r.status_code == 200, r.text
        out[role] = r.json()["access_token"]
    return out
