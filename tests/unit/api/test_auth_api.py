from __future__ import annotations

import time

from fastapi.testclient import TestClient

from server_agent.auth import jwt_hs256 as jwt
from server_agent.runtime import Services
from tests.support import PASSWORDS


def test_login_refresh_rotation(client: TestClient) -> None:
    r = client.post("/api/v1/auth/login",
                    json={"username": "operator", "password": PASSWORDS["operator"]})
    assert r.status_code == 200
    pair = r.json()
    assert pair["role"] == "operator" and pair["expires_in"] > 0
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json() == {"username": "operator", "role": "operator"}
    r2 = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r2.status_code == 200
    # a refresh token works once: replaying it is refused
    r3 = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r3.status_code == 401 and r3.json()["hint"]


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    a = client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope-nope"})
    b = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]


def test_refresh_token_is_not_an_access_token(client: TestClient) -> None:
    pair = client.post("/api/v1/auth/login",
                       json={"username": "admin", "password": PASSWORDS["admin"]}).json()
    r = client.get("/api/v1/devices",
                   headers={"Authorization": f"Bearer {pair['refresh_token']}"})
    assert r.status_code == 401


def test_expired_and_forged_tokens_are_refused(client: TestClient, services: Services) -> None:
    expired = jwt.encode({"sub": "admin", "role": "admin", "typ": "access",
                          "exp": time.time() - 5}, services.auth.secret)
    forged = jwt.encode({"sub": "admin", "role": "admin", "typ": "access",
                         "exp": time.time() + 60}, "guessed-secret-guessed-secret-32b")
    # alg=none with the real claims: must be refused, never trusted unsigned
    head, body, _ = forged.split(".")
    none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + body + "."
    empty_sig = head + "." + body + "."  # HS256 header, real claims, no signature at all
    for tok in (expired, forged, "garbage", none_alg, head + "." + body, empty_sig):
        r = client.get("/api/v1/devices", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 401, tok
        assert r.json()["error"] == "unauthorized"


def test_bad_input_gets_clear_4xx(client: TestClient) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "", "password": "x"})
    assert r.status_code == 422 and "username" in r.json()["detail"]
    r = client.post("/api/v1/auth/login", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_audit_records_logins(client: TestClient, services: Services) -> None:
    client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-pass"})
    client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]})
    actions = [e["action"] for e in services.auth.audit_log()]
    assert "login.failed" in actions and "login" in actions
