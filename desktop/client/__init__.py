"""The desktop's view of an agent: REST (:class:`AgentClient`) and the live feed
(:class:`LiveStream`). No Qt here; the UI gets these injected.

The failure tree is drawn in :mod:`desktop.client._exceptions`.
"""

from __future__ import annotations

from desktop.client._agent import AgentClient, Session, normalize_url
from desktop.client._exceptions import (
    AgentError,
    AgentUnreachable,
    ApiRejected,
    AuthFailed,
    FeatureUnavailable,
    PermissionDenied,
    ProtocolError,
)
from desktop.client._live import (
    Backoff,
    LinkState,
    LinkStatus,
    LiveMessage,
    LiveStream,
    parse_message,
)

__all__ = [
    "AgentClient",
    "AgentError",
    "AgentUnreachable",
    "ApiRejected",
    "AuthFailed",
    "Backoff",
    "FeatureUnavailable",
    "LinkState",
    "LinkStatus",
    "LiveMessage",
    "LiveStream",
    "PermissionDenied",
    "ProtocolError",
    "Session",
    "normalize_url",
    "parse_message",
]
