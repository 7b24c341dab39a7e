"""What a refused caller is told: the status, what is wrong and what to do, for each way a
request can fail the role check (written out by hand, the texts a technician reads)."""

from __future__ import annotations

import time

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from server_agent.api.deps import require
from server_agent.api.errors import install
from server_agent.auth import jwt_hs256
from server_agent.auth.service import Principal
from server_agent.contract import Role
from server_agent.runtime import Services
from tests.support import PASSWORDS

ME = "/api/v1/auth/me"  # viewer
ACK = "/api/v1/alarms/999999/ack"  # operator


def _answer(client: TestClient, method: str, path: str,
            headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    r = client.request(method, path, headers=headers)
    return r.status_code, r.json()


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic dmlld2VyOnB3"},
    {"Authorization": "Bearer"},
])
def test_no_bearer_token_says_where_to_log_in(client: TestClient,
                                              headers: dict[str, str]) -> None:
    assert _answer(client, "GET", ME, headers) == (401, {
        "error": "unauthorized", "detail": "no bearer token",
        "hint": "log in at /api/v1/auth/login"})


def test_a_forged_token_is_invalid(client: TestClient) -> None:
    assert _answer(client, "GET", ME, {"Authorization": "Bearer a.b.c"}) == (401, {
        "error": "unauthorized", "detail": "invalid access token; log in again",
        "hint": "refresh or log in again"})


def test_an_expired_token_says_so(client: TestClient, services: Services) -> None:
    old = jwt_hs256.encode({"sub": "viewer", "role": "viewer", "typ": "access",
                            "exp": int(time.time()) - 60}, services.auth.secret)
    assert _answer(client, "GET", ME, {"Authorization": f"Bearer {old}"}) == (401, {
        "error": "unauthorized", "detail": "access token expired; log in again",
        "hint": "refresh or log in again"})


def test_a_role_too_low_names_both_roles(client: TestClient, tokens: dict[str, str]) -> None:
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert _answer(client, "POST", ACK, viewer) == (403, {
        "error": "forbidden", "detail": "this needs the operator role; you are viewer",
        "hint": "ask an admin for a user with that role"})
    operator = {"Authorization": f"Bearer {tokens['operator']}"}
    status, _ = _answer(client, "POST", ACK, operator)
    assert status == 404  # past the role check: the alarm does not exist
    r = client.get(ME, headers={"Authorization": f"bearer {tokens['viewer']}"})
    assert r.status_code == 200 and r.json()["username"] == "viewer"  # scheme: any case


def test_require_builds_a_dependency_that_checks_at_request_time(services: Services) -> None:
    """require() as a new router would call it: a dependency named for its role that admits
    the callers of that role and above (the app's own routers built theirs at import)."""
    dep = require(Role.operator)
    assert dep.__name__ == "require_operator"
    app = FastAPI()
    app.state.services = services
    install(app)

    @app.get("/x")
    def x(who: Principal = Depends(dep)) -> dict[str, str]:  # noqa: B008 - FastAPI's form
        return {"who": who.username}

    with TestClient(app) as c:
        login = {r: services.auth.login(r, PASSWORDS[r]).access_token
                 for r in ("viewer", "operator", "admin")}
        assert c.get("/x").status_code == 401
        r = c.get("/x", headers={"Authorization": f"Bearer {login['viewer']}"})
        assert r.status_code == 403 and r.json()["detail"].startswith("this needs the operator")
        for role in ("operator", "admin"):
            r = c.get("/x", headers={"Authorization": f"Bearer {login[role]}"})
            assert r.json() == {"who": role}
