"""Every endpoint declares its least role, and is checked for every role.

ROLES is the reviewed table: adding an endpoint without adding it here fails, and so does
changing an endpoint's role without changing the table.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from server_agent.contract import Role

PUBLIC = None
ROLES: dict[tuple[str, str], Role | None] = {
    ("GET", "/api/v1/health"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("GET", "/api/v1/auth/me"): Role.viewer,
    ("GET", "/api/v1/devices"): Role.viewer,
    ("GET", "/api/v1/devices/{device_id}"): Role.viewer,
    ("PATCH", "/api/v1/devices/{device_id}"): Role.operator,
    ("POST", "/api/v1/discovery/runs"): Role.operator,
    ("GET", "/api/v1/discovery/runs/{run_id}"): Role.viewer,
    ("POST", "/api/v1/discovery/runs/{run_id}/cancel"): Role.operator,
    ("GET", "/api/v1/streams"): Role.viewer,
    ("GET", "/api/v1/streams/{stream_id}"): Role.viewer,
    ("POST", "/api/v1/streams"): Role.operator,
    ("PATCH", "/api/v1/streams/{stream_id}"): Role.operator,
    ("DELETE", "/api/v1/streams/{stream_id}"): Role.operator,
    ("GET", "/api/v1/history"): Role.viewer,
    ("GET", "/api/v1/alarms"): Role.viewer,
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): Role.operator,
    ("GET", "/api/v1/playbooks"): Role.viewer,
    ("GET", "/api/v1/jobs"): Role.viewer,
    ("POST", "/api/v1/jobs"): Role.operator,
    ("GET", "/api/v1/jobs/{job_id}"): Role.viewer,
    ("GET", "/api/v1/jobs/{job_id}/events"): Role.viewer,
    ("POST", "/api/v1/jobs/{job_id}/cancel"): Role.operator,
}
# endpoints whose protection is not a role: /metrics takes a scrape token (tested separately)
NOT_ROLE_BASED = {("GET", "/metrics")}


def declared_role(route: APIRoute) -> Role | None:
    found = []
    for dep in route.dependant.dependencies:
        for sub in [dep, *dep.dependencies]:
            m = re.fullmatch(r"require_(\w+)", getattr(sub.call, "__name__", ""))
            if m:
                found.append(Role(m.group(1)))
    assert len(set(found)) <= 1, f"{route.path}: more than one role declared"
    return found[0] if found else None


def api_routes(client: TestClient) -> list[tuple[str, str, APIRoute]]:
    out = []
    for r in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(r, APIRoute):
            for m in sorted(r.methods - {"HEAD"}):
                out.append((m, r.path, r))
    return out


def test_every_endpoint_is_in_the_reviewed_table(client: TestClient) -> None:
    for method, path, route in api_routes(client):
        key = (method, path)
        if key in NOT_ROLE_BASED:
            continue
        assert key in ROLES, f"{method} {path} is not in the RBAC table: decide its least role"
        assert declared_role(route) == ROLES[key], f"{method} {path}: declared role differs"


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.mark.parametrize("as_role", [None, "viewer", "operator", "admin"])
def test_each_role_gets_exactly_what_it_may(client: TestClient, tokens: dict[str, str],
                                            as_role: str | None) -> None:
    for method, path, _ in api_routes(client):
        key = (method, path)
        if key in NOT_ROLE_BASED or key not in ROLES:
            continue
        needed = ROLES[key]
        headers = {"Authorization": f"Bearer {tokens[as_role]}"} if as_role else {}
        r = client.request(method, _fill(path), headers=headers, json={})
        if needed is None:
            assert r.status_code not in (401, 403) or path.endswith(("/login", "/refresh")), (
                method, path, r.status_code)
        elif as_role is None:
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"] == "unauthorized"
        elif Role(as_role).allows(needed):
            assert r.status_code not in (401, 403), (method, path, as_role, r.text)
        else:
            assert r.status_code == 403, (method, path, as_role, r.status_code)
            assert needed.value in r.json()["detail"]
