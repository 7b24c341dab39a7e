"""Request dependencies: the services container and role checks.

Every endpoint declares the least role it needs with ``Depends(require(Role.x))``; the RBAC
test walks the OpenAPI document and checks each one for every role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server_agent.api.errors import ApiError
from server_agent.auth.service import Principal, TokenInvalid
from server_agent.contract import Role

if TYPE_CHECKING:
    from server_agent.runtime import Services

_bearer = HTTPBearer(auto_error=False)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated["Services", Depends(services)]


def authorize(request: Request, cred: HTTPAuthorizationCredentials | None,
              role: Role) -> Principal:
    """The caller behind the bearer token, when its role is at least ``role``; else 401/403
    saying what is wrong and what to do. Decided here, at request time, not in the closure
    ``require`` builds when the routers are imported."""
    if cred is None or cred.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "no bearer token", "log in at /api/v1/auth/login")
    svc = services(request)
    try:
        who = svc.auth.verify_access(cred.credentials)
    except TokenInvalid as exc:
        raise ApiError(401, "unauthorized", str(exc), "refresh or log in again") from None
    if not who.role.allows(role):
        raise ApiError(
            403, "forbidden", f"this needs the {role.value} role; you are {who.role.value}",
            "ask an admin for a user with that role",
        )
    return who


def require(role: Role) -> Callable[..., Principal]:
    def check(
        request: Request,
        cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return authorize(request, cred, role)

    check.__name__ = f"require_{role.value}"
    return check


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
