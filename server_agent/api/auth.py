"""Login, refresh, and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter

from server_agent.api.deps import ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.auth.service import InvalidCredentials, TokenInvalid
from server_agent.contract import LoginRequest, RefreshRequest, TokenPair, WhoAmI

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenPair)
def login(body: LoginRequest, svc: ServicesDep) -> TokenPair:
    try:
        return svc.auth.login(body.username, body.password)
    except InvalidCredentials as exc:
        raise ApiError(
            401, "invalid_credentials", str(exc), "check user name and password"
        ) from None


@router.post("/refresh", response_model=TokenPair)
def refresh(body: RefreshRequest, svc: ServicesDep) -> TokenPair:
    try:
        return svc.auth.refresh(body.refresh_token)
    except TokenInvalid as exc:
        raise ApiError(401, "invalid_token", str(exc), "log in again") from None


@router.get("/me", response_model=WhoAmI)
def me(who: Viewer) -> WhoAmI:
    return WhoAmI(username=who.username, role=who.role)
