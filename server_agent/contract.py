"""The wire contract shared by the agent and the desktop.

Every model here is what travels over HTTP or the live WebSocket (design §8). It imports
nothing heavier than pydantic, so the desktop can use it without pulling in the agent.

Units: times are Unix seconds (float); latencies in the REST API are milliseconds (``*_ms``),
ratios are 0..1; Prometheus metrics use base units (seconds) instead. A missing value is
``None`` (JSON ``null``), never NaN or 0.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/api/v1"


class Role(str, Enum):
    """Roles in increasing order of power."""

    viewer = "viewer"
    operator = "operator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_ROLE_RANK = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Wire):
    """Every 4xx/5xx answer: what happened (``detail``) and what to do (``hint``)."""

    error: str
    detail: str
    hint: str = ""


class Health(Wire):
    status: Literal["ok", "degraded"]
    version: str
    flypack: str
    time: float
    uptime_s: float
    tls: bool


# --- auth -------------------------------------------------------------------------------


class LoginRequest(Wire):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(Wire):
    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenPair(Wire):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: float = Field(description="Seconds until the access token expires.")
    role: Role
    username: str


class WhoAmI(Wire):
    username: str
    role: Role


# --- devices ----------------------------------------------------------------------------


class DeviceRole(str, Enum):
    encoder = "encoder"
    decoder = "decoder"
    router = "router"
    switch = "switch"
    endpoint = "endpoint"
    unknown = "unknown"


class DeviceState(str, Enum):
    up = "up"
    degraded = "degraded"
    down = "down"
    unknown = "unknown"


class ProbeStatus(Wire):
    """The latest figures of one reachability probe of one device."""

    probe: str = Field(description="e.g. 'icmp', 'tcp:80', 'udp:7'")
    up: bool | None
    rtt_ms: float | None
    jitter_ms: float | None
    loss_ratio: float | None
    baseline_rtt_ms: float | None = None
    last_t: float | None = None
    error: str | None = Field(default=None, description="Why the probe cannot run, if it cannot.")


class Device(Wire):
    id: str
    name: str
    role: DeviceRole
    address: str
    vendor: str = ""
    model: str = ""
    state: DeviceState = DeviceState.unknown
    rtt_budget_ms: float | None = None
    probes: list[ProbeStatus] = Field(default_factory=list)


class Stream(Wire):
    """A monitored stream; filled by the stream analysis capability."""

    id: str
    title: str
    legs: list[str] = Field(default_factory=list, description="Source URL per leg")
    state: Literal["ok", "alarm", "unknown"] = "unknown"


# --- alarms -----------------------------------------------------------------------------


class Severity(str, Enum):
    critical = "critical"
    major = "major"
    minor = "minor"
    warning = "warning"


class Alarm(Wire):
    id: int
    key: str = Field(description="Stable identity: rule + subject, e.g. 'loss/enc-01/icmp'")
    rule: str
    severity: Severity
    device: str | None = None
    stream: str | None = None
    message: str
    active: bool
    raised_at: float
    cleared_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    value: float | None = None


class AlarmList(Wire):
    alarms: list[Alarm]


# --- history ----------------------------------------------------------------------------


class HistorySeries(Wire):
    labels: dict[str, str]
    points: list[tuple[float, float | None]]


class History(Wire):
    series_name: str
    source: Literal["victoriametrics", "buffer"]
    note: str = ""
    query: str | None = Field(default=None, description="PromQL sent to VictoriaMetrics")
    start: float
    end: float
    step: float
    series: list[HistorySeries]


# --- live WebSocket (design §8) ----------------------------------------------------------


class WireSample(Wire):
    series: str
    labels: dict[str, str]
    t: float
    v: float | None


class SamplesMessage(Wire):
    type: Literal["samples"] = "samples"
    t: float
    samples: list[WireSample]


class EventMessage(Wire):
    type: Literal["event"] = "event"
    t: float
    kind: str = Field(description="e.g. 'alarm.raised', 'alarm.cleared', 'alarm.acked'")
    data: dict[str, Any]


class OverflowMessage(Wire):
    type: Literal["overflow"] = "overflow"
    t: float
    dropped: int


class ErrorMessage(Wire):
    type: Literal["error"] = "error"
    t: float
    detail: str


class SubscribeMessage(Wire):
    type: Literal["subscribe"]
    series: list[str] = Field(max_length=256)
    match: dict[str, str] = Field(default_factory=dict)


class AuthMessage(Wire):
    type: Literal["auth"]
    token: str
