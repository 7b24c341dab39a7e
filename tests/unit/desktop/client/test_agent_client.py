"""AgentClient against httpx.MockTransport: login, silent refresh, error mapping."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from desktop.client import (
    AgentClient,
    AgentUnreachable,
    ApiRejected,
    AuthFailed,
    FeatureUnavailable,
    PermissionDenied,
    ProtocolError,
    normalize_url,
)
from server_agent.contract import Role

Handler = Callable[[httpx.Request], httpx.Response]


def pair(n: int, expires_in: float = 900.0, role: str = "operator") -> dict[str, object]:
    return {"access_token": f"acc-{n}", "refresh_token": f"ref-{n}", "token_type": "bearer",
            "expires_in": expires_in, "role": role, "username": "op"}


def err(status: int, error: str, detail: str, hint: str = "") -> httpx.Response:
    return httpx.Response(status, json={"error": error, "detail": detail, "hint": hint})


DEVICE = {"id": "enc-01", "name": "enc-01", "role": "encoder", "address": "127.0.0.1",
          "state": "up", "probes": [{"probe": "udp:7", "up": True, "rtt_ms": 0.4,
                                     "jitter_ms": 0.1, "loss_ratio": 0.0}]}


class Agent:
    """A scripted agent: counts calls, hands out token pairs, checks bearer tokens."""

    def __init__(self) -> None:
        self.tokens = 0
        self.valid: set[str] = set()
        self.calls: list[tuple[str, str, str | None]] = []
        self.expire_next = False

    def __call__(self, req: httpx.Request) -> httpx.Response:
        auth = req.headers.get("authorization")
        self.calls.append((req.method, req.url.path, auth))
        path = req.url.path.removeprefix("/api/v1")
        if path == "/auth/login":
            body = json.loads(req.content)
            if body["password"] != "right":
                return err(401, "invalid_credentials", "wrong user name or password",
                           "check user name and password")
            return self._issue()
        if path == "/auth/refresh":
            if json.loads(req.content)["refresh_token"] != f"ref-{self.tokens}":
                return err(401, "invalid_token", "refresh token expired", "log in again")
            return self._issue()
        if auth is None or auth.removeprefix("Bearer ") not in self.valid:
            return err(401, "unauthorized", "token expired", "refresh or log in again")
        if self.expire_next:
            self.expire_next = False
            self.valid.clear()
            return err(401, "unauthorized", "token expired", "refresh or log in again")
        if path == "/devices":
            return httpx.Response(200, json=[DEVICE])
        if path == "/health":
            return httpx.Response(200, json={})
        return err(404, "not_found", "Not Found", "see /openapi.json for the API")

    def _issue(self) -> httpx.Response:
        self.tokens += 1
        self.valid.add(f"acc-{self.tokens}")
        return httpx.Response(200, json=pair(self.tokens))


def make(handler: Handler, clock: Callable[[], float] | None = None) -> AgentClient:
    return AgentClient("127.0.0.1:9", transport=httpx.MockTransport(handler),
                       clock=clock or time.monotonic)


async def test_login_then_devices_with_bearer() -> None:
    agent = Agent()
    client = make(agent)
    tp = await client.login("op", "right")
    assert tp.role is Role.operator and client.session is not None
    assert client.session.allows(Role.operator) and not client.session.allows(Role.admin)
    devices = await client.devices()
    assert devices[0].name == "enc-01" and devices[0].probes[0].rtt_ms == 0.4
    assert agent.calls[-1] == ("GET", "/api/v1/devices", "Bearer acc-1")


async def test_wrong_password_is_auth_failed_with_hint() -> None:
    client = make(Agent())
    with pytest.raises(AuthFailed) as ei:
        await client.login("op", "wrong")
    assert "wrong user name or password" in str(ei.value)
    assert ei.value.hint == "check user name and password" and ei.value.status == 401


async def test_refresh_on_401_and_retry() -> None:
    agent = Agent()
    client = make(agent)
    await client.login("op", "right")
    agent.expire_next = True
    devices = await client.devices()
    assert len(devices) == 1
    paths = [c[1] for c in agent.calls]
    assert paths[-3:] == ["/api/v1/devices", "/api/v1/auth/refresh", "/api/v1/devices"]
    assert agent.calls[-1][2] == "Bearer acc-2"


async def test_refresh_before_expiry() -> None:
    now = [1000.0]
    agent = Agent()
    client = make(agent, clock=lambda: now[0])
    await client.login("op", "right")
    now[0] += 900 - 10  # inside the refresh margin (30 s)
    await client.devices()
    assert [c[1] for c in agent.calls][-2:] == ["/api/v1/auth/refresh", "/api/v1/devices"]
    assert sum(1 for c in agent.calls if c[1].endswith("/devices")) == 1  # no failed try


async def test_refresh_refused_means_log_in_again() -> None:
    agent = Agent()
    client = make(agent)
    await client.login("op", "right")
    agent.tokens += 5  # our refresh token no longer matches
    agent.expire_next = True
    with pytest.raises(AuthFailed, match="log in again"):
        await client.devices()
    assert client.session is None


async def test_not_logged_in() -> None:
    with pytest.raises(AuthFailed, match="not logged in"):
        await make(Agent()).devices()


@pytest.mark.parametrize(("response", "kind", "text"), [
    (err(403, "forbidden", "this needs the operator role; you are viewer", "ask an admin"),
     PermissionDenied, "ask an admin"),
    (err(404, "not_found", "Not Found", "see /openapi.json"), FeatureUnavailable,
     "does not offer the alarm list"),
    (err(404, "not_found", "no alarm 7", "list /api/v1/alarms"), ApiRejected, "no alarm 7"),
    (err(422, "invalid_input", "series: field required", "fix the named fields"),
     ApiRejected, "fix the named fields"),
    (httpx.Response(500, text="<html>boom</html>"), ApiRejected, "Internal Server Error"),
    (httpx.Response(200, json={"alarms": [{"id": "x"}]}), ProtocolError, "versions may differ"),
])
async def test_error_mapping(response: httpx.Response, kind: type[Exception], text: str) -> None:
    agent = Agent()

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.endswith("/alarms"):
            return response
        return agent(req)

    client = make(handler)
    await client.login("op", "right")
    with pytest.raises(kind) as ei:
        await client.alarms()
    assert text in str(ei.value)
    if kind is not ProtocolError:
        assert type(ei.value) is kind


async def test_unreachable() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=req)

    with pytest.raises(AgentUnreachable) as ei:
        await make(handler).health()
    assert "flypack-agent serve" in ei.value.hint


async def test_history_query_and_ack() -> None:
    agent = Agent()
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path.endswith("/history"):
            return httpx.Response(200, json={
                "series_name": "flypack_probe_rtt_seconds", "source": "buffer", "start": 1.0,
                "end": 2.0, "step": 1.0,
                "series": [{"labels": {"device": "enc-01"}, "points": [[1.0, 0.001],
                                                                       [2.0, None]]}]})
        if req.url.path.endswith("/ack"):
            return httpx.Response(200, json={
                "id": 7, "key": "k", "rule": "loss", "severity": "major", "message": "m",
                "active": True, "raised_at": 1.0, "acked_by": "op", "acked_at": 2.0})
        return agent(req)

    client = make(handler)
    await client.login("op", "right")
    h = await client.history("flypack_probe_rtt_seconds", {"device": "enc-01"},
                             start=1, end=2, step=1)
    assert h.series[0].points[1] == (2.0, None)
    q = seen[-1].url.params
    assert q.get_list("match") == ["device=enc-01"] and q["series"] == "flypack_probe_rtt_seconds"
    alarm = await client.ack_alarm(7)
    assert alarm is not None and alarm.acked_by == "op"
    assert seen[-1].method == "POST" and seen[-1].url.path == "/api/v1/alarms/7/ack"


def test_normalize_url() -> None:
    assert normalize_url(" 127.0.0.1:8443/ ") == "http://127.0.0.1:8443"
    assert normalize_url("https://fp:8443") == "https://fp:8443"
    with pytest.raises(Exception, match="not an agent URL"):
        normalize_url("ftp://x")
