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
    CertificateChanged,
    FeatureUnavailable,
    PermissionDenied,
    ProtocolError,
)
from desktop.client._fleet import FleetEntry, FleetFile, default_config_dir, take_snapshot
from desktop.client._jobs import TERMINAL, Job, JobEvent, JobsApi, Playbook
from desktop.client._live import (
    Backoff,
    LinkState,
    LinkStatus,
    LiveMessage,
    LiveStream,
    parse_message,
)
from desktop.client._secrets import SecretStore, backend_problem
from desktop.client._tls import (
    PeerCertificate,
    check_pin,
    fetch_certificate,
    fingerprint,
    pinned_context,
)

__all__ = [
    "TERMINAL",
    "AgentClient",
    "AgentError",
    "AgentUnreachable",
    "ApiRejected",
    "AuthFailed",
    "Backoff",
    "CertificateChanged",
    "FeatureUnavailable",
    "FleetEntry",
    "FleetFile",
    "Job",
    "JobEvent",
    "JobsApi",
    "LinkState",
    "LinkStatus",
    "LiveMessage",
    "LiveStream",
    "PeerCertificate",
    "PermissionDenied",
    "Playbook",
    "ProtocolError",
    "SecretStore",
    "Session",
    "backend_problem",
    "check_pin",
    "default_config_dir",
    "fetch_certificate",
    "fingerprint",
    "normalize_url",
    "parse_message",
    "pinned_context",
    "take_snapshot",
]
