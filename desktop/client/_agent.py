"""``AgentClient``: the agent's REST API as typed coroutines (no Qt).

    client = AgentClient("http://127.0.0.1:8443")
    await client.login("operator", password)       # -> TokenPair
    devices = await client.devices()               # -> list[Device]
    await client.aclose()

Tokens: the access token is refreshed silently before it expires (``refresh_margin_s``) and once
more when a request answers 401; only when the refresh token is refused too does a call raise
:class:`AuthFailed` ("log in again"). Every failure is an :class:`AgentError` subclass.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from desktop.client._exceptions import (
    AgentError,
    AgentUnreachable,
    ApiRejected,
    AuthFailed,
    FeatureUnavailable,
    PermissionDenied,
    ProtocolError,
)
from desktop.client._tls import check_pin, pinned_context
from server_agent.contract import (
    API_PREFIX,
    Alarm,
    AlarmList,
    Device,
    ErrorBody,
    Health,
    History,
    Role,
    Stream,
    TokenPair,
)

__all__ = ["AgentClient", "Session", "normalize_url"]

M = TypeVar("M")
B = TypeVar("B", bound=BaseModel)
_DEVICES = TypeAdapter(list[Device])
_STREAMS = TypeAdapter(list[Stream])


def normalize_url(url: str) -> str:
    """``127.0.0.1:8443`` -> ``http://127.0.0.1:8443``; raises AgentError on nonsense."""
    url = url.strip().rstrip("/")
    if not url:
        raise AgentError("no agent URL given", "enter e.g. https://flypack-01:8443")
    if "://" not in url:
        url = "http://" + url
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise AgentError(f"{url!r} is not an agent URL", "use http(s)://HOST:PORT")
    return url


@dataclass
class Session:
    """Who is logged in, and the tokens (kept in memory only)."""

    username: str
    role: Role
    access_token: str
    refresh_token: str
    expires_at: float  # on the client's monotonic clock

    def allows(self, role: Role) -> bool:
        return self.role.allows(role)


class AgentClient:
    """One agent. Safe to share between coroutines of one event loop."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        verify: bool | str | ssl.SSLContext = True,
        refresh_margin_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        pin: tuple[str, str] | None = None,
        on_session: Callable[[Session | None], None] | None = None,
    ) -> None:
        """``pin`` = (fingerprint, PEM) of the confirmed certificate: trust only that one.
        ``on_session`` hears every new token pair (to keep the refresh token in keyring)."""
        self.base_url = normalize_url(base_url)
        self.pin = pin
        if pin is not None:
            verify = pinned_context(pin[1])
        self.on_session = on_session
        self.http = httpx.AsyncClient(
            base_url=self.base_url + API_PREFIX,
            transport=transport,
            timeout=timeout,
            verify=verify,
            headers={"User-Agent": "flypack-desktop"},
        )
        self.session: Session | None = None
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._refresh_lock = asyncio.Lock()

    # --- session ----------------------------------------------------------------------

    async def login(self, username: str, password: str) -> TokenPair:
        """Log in; raises :class:`AuthFailed` on a wrong user name or password."""
        if not username or not password:
            raise AuthFailed("user name and password are both needed", "fill in both fields")
        resp = await self._send("POST", "/auth/login",
                                json={"username": username, "password": password})
        pair = self._parse(resp, TokenPair)
        self._adopt(pair)
        return pair

    async def resume(self, username: str, refresh_token: str) -> Session:
        """Log in silently with a stored refresh token; AuthFailed if it is no longer valid."""
        resp = await self._send("POST", "/auth/refresh", json={"refresh_token": refresh_token})
        pair = self._parse(resp, TokenPair)
        if pair.username != username:
            raise AuthFailed(f"the stored session belongs to {pair.username!r}", "log in again")
        self._adopt(pair)
        return self._need_session()

    def logout(self) -> None:
        """Forget the tokens (the agent's tokens simply expire)."""
        self.session = None
        if self.on_session is not None:
            self.on_session(None)

    async def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed first if it expires soon (used by LiveStream)."""
        s = self._need_session()
        if force_refresh or self._clock() >= s.expires_at - self._refresh_margin_s:
            await self._refresh(s.access_token)
            s = self._need_session()
        return s.access_token

    # --- endpoints ---------------------------------------------------------------------

    async def health(self) -> Health:
        return self._parse(await self._send("GET", "/health"), Health)

    async def devices(self) -> list[Device]:
        resp = await self._authed("GET", "/devices")
        return self._parse_with(resp, _DEVICES.validate_python)

    async def device(self, device_id: str) -> Device:
        return self._parse(await self._authed("GET", f"/devices/{device_id}"), Device)

    async def patch_device(self, device_id: str, changes: Mapping[str, Any]) -> Device:
        """Operator overrides (name, role, notes); FeatureUnavailable on older agents."""
        resp = await self._authed("PATCH", f"/devices/{device_id}", json=dict(changes),
                                  feature="editing devices (PATCH /api/v1/devices/{id})")
        try:
            return Device.model_validate(resp.json())
        except (ValueError, ValidationError):
            return await self.device(device_id)

    async def streams(self) -> list[Stream]:
        resp = await self._authed("GET", "/streams", feature="the stream list")
        return self._parse_with(resp, _STREAMS.validate_python)

    async def alarms(self) -> list[Alarm]:
        resp = await self._authed("GET", "/alarms", feature="the alarm list")
        return self._parse(resp, AlarmList).alarms

    async def ack_alarm(self, alarm_id: int) -> Alarm | None:
        """Acknowledge; returns the updated alarm when the agent sends it back."""
        resp = await self._authed("POST", f"/alarms/{int(alarm_id)}/ack",
                                  feature="acknowledging alarms")
        try:
            return Alarm.model_validate(resp.json())
        except (ValueError, ValidationError):
            return None

    async def history(self, series: str, match: Mapping[str, str] | None = None, *,
                      start: float, end: float, step: float) -> History:
        params: list[tuple[str, str | float]] = [("series", series)]
        params += [("match", f"{k}={v}") for k, v in (match or {}).items()]
        params += [("start", start), ("end", end), ("step", step)]
        resp = await self._authed("GET", "/history", params=params, feature="history")
        return self._parse(resp, History)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AgentClient:
        await self.http.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- plumbing ----------------------------------------------------------------------

    def _need_session(self) -> Session:
        if self.session is None:
            raise AuthFailed("not logged in", "log in first")
        return self.session

    def _adopt(self, pair: TokenPair) -> None:
        self.session = Session(
            username=pair.username,
            role=pair.role,
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_at=self._clock() + pair.expires_in,
        )
        if self.on_session is not None:
            self.on_session(self.session)

    async def _refresh(self, stale_token: str) -> None:
        async with self._refresh_lock:
            s = self._need_session()
            if s.access_token != stale_token:  # another coroutine refreshed meanwhile
                return
            try:
                resp = await self._send("POST", "/auth/refresh",
                                        json={"refresh_token": s.refresh_token})
            except AuthFailed as exc:
                self.session = None
                raise AuthFailed("your session has expired", "log in again",
                                 status=exc.status, code=exc.code) from None
            self._adopt(self._parse(resp, TokenPair))

    async def _authed(self, method: str, path: str, *, feature: str = "",
                      **kwargs: Any) -> httpx.Response:
        token = await self.access_token()
        try:
            return await self._send(method, path, token=token, feature=feature, **kwargs)
        except AuthFailed:
            token = await self.access_token(force_refresh=True)
            return await self._send(method, path, token=token, feature=feature, **kwargs)

    async def _send(self, method: str, path: str, *, token: str | None = None,
                    feature: str = "", **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = await self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise AgentUnreachable(
                f"the agent at {self.base_url} did not answer in time",
                "check the network link to the flypack, then retry",
            ) from None
        except httpx.TransportError as exc:
            ssl = "certificate" in str(exc).lower() or "ssl" in str(exc).lower()
            if ssl and self.pin is not None:
                await check_pin(self.base_url, self.pin[0])  # raises CertificateChanged
            hint = ("check the agent's certificate fingerprint" if ssl else
                    "check the URL and that the agent runs (flypack-agent serve)")
            raise AgentUnreachable(f"cannot reach the agent at {self.base_url}: {exc}",
                                   hint) from None
        if resp.status_code >= 400:
            raise _error_for(resp, feature)
        return resp

    def _parse(self, resp: httpx.Response, model: type[B]) -> B:
        return self._parse_with(resp, model.model_validate)

    def _parse_with(self, resp: httpx.Response, validate: Callable[[Any], M]) -> M:
        try:
            return validate(resp.json())
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise ProtocolError(
                f"unexpected answer from {resp.request.method} {resp.request.url.path}: {first}",
                "the desktop and agent versions may differ; update one of them",
            ) from None


def _error_for(resp: httpx.Response, feature: str) -> AgentError:
    """Map a 4xx/5xx answer (an ErrorBody, if the agent sent one) to an AgentError."""
    try:
        body = ErrorBody.model_validate(resp.json())
        detail, hint, code = body.detail, body.hint, body.error
    except (ValueError, ValidationError):
        detail, hint, code = resp.reason_phrase or f"HTTP {resp.status_code}", "", ""
    status = resp.status_code
    if status == 401:
        return AuthFailed(detail, hint or "log in again", status=status, code=code)
    if status == 403:
        return PermissionDenied(detail, hint, status=status, code=code)
    route_missing = status == 405 or (status == 404 and detail.lower() == "not found")
    if route_missing:
        what = feature or f"{resp.request.method} {resp.request.url.path}"
        return FeatureUnavailable(
            f"this agent does not offer {what} yet",
            "update the agent; everything else keeps working", status=status, code=code,
        )
    return ApiRejected(detail or f"the agent answered HTTP {status}", hint,
                       status=status, code=code)
