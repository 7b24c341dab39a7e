"""Typed failures of the agent client. Every message says what happened and what to do.

    AgentError                      anything the client cannot do for you
    ├── AgentUnreachable            no answer: wrong URL, agent down, network, timeout, TLS
    ├── CertificateChanged          the agent's TLS certificate is not the one we pinned
    ├── AuthFailed                  401: wrong password, or the session expired for good
    ├── PermissionDenied            403: your role may not do this
    ├── ApiRejected                 any other 4xx/5xx, with the agent's ErrorBody detail and hint
    │   └── FeatureUnavailable      404/405 on an endpoint this agent does not have (yet)
    └── ProtocolError               the agent answered something that is not the wire contract

Catch :class:`AgentError` to show ``str(exc)`` to a technician; the subclasses let code react
(e.g. go back to the login screen on :class:`AuthFailed`).
"""

from __future__ import annotations

__all__ = [
    "AgentError",
    "AgentUnreachable",
    "ApiRejected",
    "AuthFailed",
    "CertificateChanged",
    "FeatureUnavailable",
    "PermissionDenied",
    "ProtocolError",
]


class AgentError(Exception):
    """Base class: ``detail`` is what happened, ``hint`` what to do about it."""

    def __init__(self, detail: str, hint: str = "", *, status: int | None = None,
                 code: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"{self.detail} — {self.hint}" if self.hint else self.detail


class AgentUnreachable(AgentError):
    """The agent did not answer (connection refused, DNS, timeout, TLS)."""


class CertificateChanged(AgentError):
    """The agent presented a certificate whose fingerprint differs from the pinned one.

    Never retried silently: it is either a reinstalled agent or someone in the middle.
    """

    def __init__(self, url: str, pinned: str, seen: str) -> None:
        super().__init__(
            f"the certificate of {url} CHANGED: pinned {pinned[:23]}…, now {seen[:23]}…; "
            "the connection was refused",
            "if the flypack server was reinstalled, check the new fingerprint with its "
            "administrator, then remove and add the flypack again; otherwise do not connect")
        self.pinned = pinned
        self.seen = seen


class AuthFailed(AgentError):
    """The agent refused our credentials or tokens (HTTP 401)."""


class PermissionDenied(AgentError):
    """Logged in, but the role does not allow this (HTTP 403)."""


class ApiRejected(AgentError):
    """The agent answered with an :class:`~server_agent.contract.ErrorBody` (4xx/5xx)."""


class FeatureUnavailable(ApiRejected):
    """The endpoint does not exist on this agent (HTTP 404 on a route, or 405)."""


class ProtocolError(AgentError):
    """The answer did not match the wire contract (different agent version?)."""
