"""Every endpoint declares its least role, and is checked for every role.

ROLES is the reviewed table, written out by hand: adding an endpoint without adding it here
fails, and so does changing an endpoint's role without changing the table. The routes are those
the app really serves (walked through FastAPI's route contexts, so included routers count) and
their number must equal the operations in ``/openapi.json``: a walk that finds nothing fails.

Who may call what is also written out by hand (MAY), not computed with ``Role.allows`` (the
function under test), and an allowed call must reach its handler and succeed: each endpoint has
a concrete request below and the status it answers with when the caller may make it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
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

# the role ladder, by hand: which callers each least role admits
MAY: dict[Role | None, set[str | None]] = {
    PUBLIC: {None, "viewer", "operator", "admin"},
    Role.viewer: {"viewer", "operator", "admin"},
    Role.operator: {"operator", "admin"},
    Role.admin: {"admin"},
}


@dataclass(frozen=True)
class Call:
    """A concrete request for an endpoint and the status it answers when allowed."""

    path: str
    ok: int
    body: dict[str, Any] | None = None
    error: str | None = None  # for a 4xx answer: the handler's own error code
    setup: Callable[[TestClient, dict[str, str]], None] | None = None


def _new_stream(client: TestClient, admin: dict[str, str]) -> None:
    client.delete("/api/v1/streams/rbac-s", headers=admin)
    r = client.post("/api/v1/streams", headers=admin,
                    json={"id": "rbac-s", "legs": ["udp://@127.0.0.1:5999"]})
    assert r.status_code == 201, r.text


def _no_stream(client: TestClient, admin: dict[str, str]) -> None:
    client.delete("/api/v1/streams/rbac-new", headers=admin)


CALLS: dict[tuple[str, str], Call] = {
    ("GET", "/api/v1/health"): Call("/api/v1/health", 200),
    # a wrong password: the handler ran (401 with its own error, not the role check's)
    ("POST", "/api/v1/auth/login"): Call("/api/v1/auth/login", 401,
                                         {"username": "nobody", "password": "x"},
                                         error="invalid_credentials"),
    ("POST", "/api/v1/auth/refresh"): Call("/api/v1/auth/refresh", 401,
                                           {"refresh_token": "not-a-token"}),
    ("GET", "/api/v1/auth/me"): Call("/api/v1/auth/me", 200),
    ("GET", "/api/v1/devices"): Call("/api/v1/devices", 200),
    ("GET", "/api/v1/devices/{device_id}"): Call("/api/v1/devices/enc-01", 200),
    ("PATCH", "/api/v1/devices/{device_id}"): Call("/api/v1/devices/enc-01", 200,
                                                   {"notes": "rbac"}),
    ("POST", "/api/v1/discovery/runs"): Call("/api/v1/discovery/runs", 422, {"networks": []},
                                             error="invalid_input"),
    ("GET", "/api/v1/discovery/runs/{run_id}"): Call("/api/v1/discovery/runs/none", 404,
                                                           error="not_found"),
    ("POST", "/api/v1/discovery/runs/{run_id}/cancel"): Call(
        "/api/v1/discovery/runs/none/cancel", 404, error="not_found"),
    ("GET", "/api/v1/streams"): Call("/api/v1/streams", 200),
    ("GET", "/api/v1/streams/{stream_id}"): Call("/api/v1/streams/rbac-s", 200,
                                                 setup=_new_stream),
    ("POST", "/api/v1/streams"): Call("/api/v1/streams", 201,
                                      {"id": "rbac-new", "legs": ["udp://@127.0.0.1:5998"]},
                                      setup=_no_stream),
    ("PATCH", "/api/v1/streams/{stream_id}"): Call("/api/v1/streams/rbac-s", 200,
                                                   {"title": "RBAC"}, setup=_new_stream),
    ("DELETE", "/api/v1/streams/{stream_id}"): Call("/api/v1/streams/rbac-s", 204,
                                                    setup=_new_stream),
    ("GET", "/api/v1/history"): Call("/api/v1/history?series=flypack_probe_rtt_seconds", 200),
    ("GET", "/api/v1/alarms"): Call("/api/v1/alarms", 200),
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): Call("/api/v1/alarms/999999/ack", 404,
                                                              error="not_found"),
    ("GET", "/api/v1/playbooks"): Call("/api/v1/playbooks", 200),
    ("GET", "/api/v1/jobs"): Call("/api/v1/jobs", 200),
    # an unknown playbook: refused by the catalog (the handler ran), nothing is started
    ("POST", "/api/v1/jobs"): Call("/api/v1/jobs", 404, {"playbook": "no-such-playbook"},
                                   error="not_found"),
    ("GET", "/api/v1/jobs/{job_id}"): Call("/api/v1/jobs/999999", 404, error="not_found"),
    ("GET", "/api/v1/jobs/{job_id}/events"): Call("/api/v1/jobs/999999/events", 404,
                                                          error="not_found"),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): Call("/api/v1/jobs/999999/cancel", 404,
                                                           error="not_found"),
}


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
    """(method, path, route) of every HTTP endpoint the app serves, included routers too."""
    out = []
    for ctx in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = ctx.original_route
        if isinstance(route, APIRoute):
            for m in sorted((ctx.methods or set()) - {"HEAD"}):
                out.append((m, str(ctx.path), route))
    return out


def test_the_walk_finds_every_operation_of_the_openapi_document(client: TestClient) -> None:
    walked = {(m, p) for m, p, _ in api_routes(client)} - NOT_ROLE_BASED
    paths = client.get("/openapi.json").json()["paths"]
    published = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert walked == published, (walked ^ published)
    assert len(walked) == len(ROLES)


def test_every_endpoint_is_in_the_reviewed_table(client: TestClient) -> None:
    routes = api_routes(client)
    assert routes, "no routes walked"
    for method, path, route in routes:
        key = (method, path)
        if key in NOT_ROLE_BASED:
            continue
        assert key in ROLES, f"{method} {path} is not in the RBAC table: decide its least role"
        assert declared_role(route) == ROLES[key], f"{method} {path}: declared role differs"
    assert set(CALLS) == set(ROLES), "every endpoint needs a concrete call in CALLS"


@pytest.mark.parametrize("as_role", [None, "viewer", "operator", "admin"])
def test_each_role_gets_exactly_what_it_may(client: TestClient, tokens: dict[str, str],
                                            as_role: str | None) -> None:
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    checked = 0
    for method, path, _ in api_routes(client):
        key = (method, path)
        if key in NOT_ROLE_BASED:
            continue
        needed, call = ROLES[key], CALLS[key]
        if call.setup is not None:
            call.setup(client, admin)
        headers = {"Authorization": f"Bearer {tokens[as_role]}"} if as_role else {}
        r = client.request(method, call.path, headers=headers, json=call.body)
        checked += 1
        if as_role in MAY[needed]:
            assert r.status_code == call.ok, (method, path, as_role, r.status_code, r.text)
            if call.error is not None:
                assert r.json()["error"] == call.error, (method, path, r.text)
        elif as_role is None:
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"] == "unauthorized"
        else:
            assert r.status_code == 403, (method, path, as_role, r.status_code)
            assert r.json()["error"] == "forbidden"
            assert needed is not None and needed.value in r.json()["detail"]
    assert checked == len(ROLES)
