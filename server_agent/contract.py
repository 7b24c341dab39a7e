"""The wire contract shared by the agent and the desktop.

Every model here is what travels over HTTP or the live WebSocket (design §8). It imports
nothing heavier than pydantic, so the desktop can use it without pulling in the agent.

Units: times are Unix seconds (float); latencies in the REST API are milliseconds (``*_ms``),
ratios are 0..1; Prometheus metrics use base units (seconds) instead. A missing value is
``None`` (JSON ``null``), never NaN or 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/api/v1"


class Role(StrEnum):
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


class DeviceRole(StrEnum):
    encoder = "encoder"
    decoder = "decoder"
    router = "router"
    switch = "switch"
    endpoint = "endpoint"
    unknown = "unknown"


class DeviceState(StrEnum):
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


class ProbeLike(Protocol):
    """What deciding a device's state needs of a probe result (agent or desktop side)."""

    @property
    def up(self) -> bool | None: ...

    @property
    def loss_ratio(self) -> float | None: ...


def device_state(probes: Iterable[ProbeLike]) -> DeviceState:
    """The one rule, shared by agent and desktop: all probes down -> down, any down or lossy
    -> degraded, all up -> up, no result yet -> unknown."""
    probes = list(probes)
    ups = [p.up for p in probes if p.up is not None]
    if not ups:
        return DeviceState.unknown
    if not any(ups):
        return DeviceState.down
    lossy = any((p.loss_ratio or 0) > 0 for p in probes)
    return DeviceState.up if all(ups) and not lossy else DeviceState.degraded


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
    # filled for discovered devices (issue 5); defaults keep configured ones unchanged
    source: Literal["config", "sim", "discovery"] = "config"
    mac: str | None = None
    network: str | None = Field(default=None, description="Swept CIDR it was found in")
    first_seen: float | None = None
    last_seen: float | None = None
    present: bool | None = Field(default=None, description="Seen in the last sweep(s)")
    previous_addresses: list[str] = Field(default_factory=list)
    found_by: list[str] = Field(default_factory=list, description="arp, icmp, tcp, snmp, mdns")
    open_ports: list[int] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list, description="mDNS/DNS-SD service types")
    sys_descr: str = ""
    sys_object_id: str = ""
    interfaces: list[dict[str, Any]] = Field(default_factory=list,
                                             description="SNMP ifTable: index, name, mac")
    lldp_neighbours: list[dict[str, str]] = Field(
        default_factory=list, description="LLDP-MIB remote table: local_port, chassis_id, "
        "port_id, sys_name (topology)")
    rule: str = Field(default="", description="Classification rule that decided role/vendor")
    evidence: list[str] = Field(default_factory=list, description="Why it was classified so")
    overrides: list[str] = Field(default_factory=list, description="Fields set by hand")
    notes: str = ""


class PathHop(Wire):
    """One hop of a stream's path, in signal order (encoder -> switch -> SRT link -> decoder).

    ``device`` hops name an inventory device (id or name); ``link`` hops are a transport
    between two devices whose figures come from leg ``leg`` (SRT statistics, UDP/RTP loss);
    ``analysis`` hops are where the agent analyses the stream (TS / IP figures of ``leg``)."""

    name: str = Field(min_length=1, max_length=80)
    kind: Literal["device", "link", "analysis"]
    device: str | None = Field(default=None, description="Inventory device id or name")
    leg: int | None = Field(default=None, ge=1, le=2, description="1-based leg of the figures")


class StreamSpec(Wire):
    """What defines a monitored stream (``POST /api/v1/streams``, ``[[streams]]``)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    title: str = Field(default="", max_length=200)
    legs: list[str] = Field(min_length=1, max_length=2,
                            description="Source URL per leg (two legs = ST 2022-7)")
    expected_dscp: int | None = Field(default=None, ge=0, le=63)
    bitrate_min_bps: float | None = Field(default=None, ge=0)
    bitrate_max_bps: float | None = Field(default=None, ge=0)
    buffer_ms: float = Field(default=50.0, gt=0, le=10000, description="ST 2022-7 buffer")
    tr101290: dict[str, float] = Field(
        default_factory=dict, description="Threshold overrides, e.g. {'pcr_repetition_s': 0.1}")
    path: list[PathHop] = Field(default_factory=list, max_length=32,
                                description="Ordered hops for the first-failing-hop view")


class StreamPatch(Wire):
    """``PATCH /api/v1/streams/{id}``: the fields to change."""

    title: str | None = Field(default=None, max_length=200)
    legs: list[str] | None = Field(default=None, min_length=1, max_length=2)
    expected_dscp: int | None = Field(default=None, ge=0, le=63)
    bitrate_min_bps: float | None = Field(default=None, ge=0)
    bitrate_max_bps: float | None = Field(default=None, ge=0)
    buffer_ms: float | None = Field(default=None, gt=0, le=10000)
    tr101290: dict[str, float] | None = None
    path: list[PathHop] | None = None


class SrtLegStats(Wire):
    """SRT figures of one leg, sampled at 10 Hz (design §8, §9). ``mode`` says where they come
    from: the device's own statistics, the agent's monitoring copy, or the agent as relay.
    While disconnected, counts and rates are 0 and RTT / buffer are null."""

    mode: Literal["device", "monitor", "relay"]
    state: Literal["connected", "connecting", "disconnected"]
    rtt_ms: float | None = None
    rtt_ms_max: float | None = None
    bandwidth_bps: float | None = Field(default=None, description="libsrt's estimate")
    receive_rate_bps: float | None = None
    send_rate_bps: float | None = None
    packets_received: int = 0
    packets_lost: int = Field(default=0, description="Gaps seen before retransmission")
    packets_retransmitted: int = 0
    packets_dropped: int = Field(default=0, description="Too late to play: real loss")
    packets_belated: int = 0
    receive_buffer_ms: float | None = None
    latency_ms: float | None = Field(default=None, description="Negotiated TSBPD latency")
    flow_window: int | None = None
    reconnects: int = 0
    encrypted: bool | None = None
    advice: str | None = Field(default=None, description="Latency advisor's suggestion")


class StreamLegStatus(Wire):
    url: str
    up: bool
    bitrate_bps: float | None = None
    datagrams: int = 0
    dscp_observed: list[int] = Field(default_factory=list)
    rtp_lost: int | None = None
    rtp_reordered: int | None = None
    rtp_duplicates: int | None = None
    df_ms: float | None = None
    join_ms: float | None = None
    error: str | None = Field(default=None, description="Why the leg cannot be received")
    srt: SrtLegStats | None = None
    srt_relay_out: SrtLegStats | None = Field(
        default=None, description="In-path relay (opt-in): the outgoing SRT leg's figures")


class HopStatus(Wire):
    """A path hop's health: its device's probes and status, its SRT figures, the TS / IP
    figures where the stream is analysed. Hops after the first failing one whose trouble it
    explains say ``caused_upstream`` instead of raising alarms of their own."""

    name: str
    kind: Literal["device", "link", "analysis"]
    device: str | None = None
    leg: int | None = None
    state: Literal["ok", "failing", "caused_upstream", "unknown"] = "unknown"
    reasons: list[str] = Field(default_factory=list, description="Why, in words")


class Stream(Wire):
    """A monitored stream; filled by the stream analysis capability."""

    id: str
    title: str
    legs: list[str] = Field(default_factory=list, description="Source URL per leg")
    state: Literal["ok", "alarm", "unknown"] = "unknown"
    source: Literal["config", "api", "sim"] = "api"
    expected_dscp: int | None = None
    bitrate_min_bps: float | None = None
    bitrate_max_bps: float | None = None
    buffer_ms: float = 50.0
    tr101290_settings: dict[str, float] = Field(default_factory=dict)
    bitrate_bps: float | None = Field(default=None, description="TS bitrate, last second")
    tr101290: dict[str, int] = Field(default_factory=dict, description="Counts since start")
    leg_status: list[StreamLegStatus] = Field(default_factory=list)
    dual_path: dict[str, Any] | None = None
    alarms: list[str] = Field(default_factory=list, description="Active alarm rules")
    path: list[HopStatus] = Field(default_factory=list)
    first_failing_hop: str | None = Field(default=None, description="Name of the first "
                                          "failing hop of the path, if any")


# --- alarms -----------------------------------------------------------------------------


class Severity(StrEnum):
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


# --- simulated segment (demo, training, tests; only when [sim] is enabled) -------------------


class SimTsErrors(Wire):
    """Errors injected into a simulated encoder's replayed MPEG-TS stream."""

    drop_per_s: float = Field(
        default=0, ge=0, le=1000, allow_inf_nan=False,
        description="Payload-carrying packets dropped per second (-> continuity_count_error).",
    )
    tei_per_s: float = Field(
        default=0, ge=0, le=1000, allow_inf_nan=False,
        description="Packets sent with transport_error_indicator set per second "
        "(-> transport_error).",
    )

    @property
    def active(self) -> bool:
        return self.drop_per_s > 0 or self.tei_per_s > 0


class SimFault(Wire):
    """The faults of one simulated device (``PUT /api/v1/sim/faults/{device}`` replaces them).

    ``down``: UDP echo, SNMP and the device's stream go silent; its TCP and HTTP services
    refuse connections (loopback cannot drop a SYN without a firewall). ``latency_ms`` delays
    UDP echo replies and HTTP answers (not the kernel's TCP handshake, not SNMP).
    ``loss_ratio`` drops that share of UDP echo requests, SNMP requests and stream datagrams.
    """

    down: bool = False
    latency_ms: float = Field(default=0, ge=0, le=10000, allow_inf_nan=False)
    loss_ratio: float = Field(default=0, ge=0, le=1, allow_inf_nan=False)
    ts_errors: SimTsErrors = Field(default_factory=SimTsErrors)

    @property
    def active(self) -> bool:
        return self.down or self.latency_ms > 0 or self.loss_ratio > 0 or self.ts_errors.active


class SimFaultState(Wire):
    device: str
    fault: SimFault


class SimDeviceInfo(Wire):
    """One simulated device and where its services listen."""

    name: str
    role: DeviceRole
    address: str
    vendor: str
    model: str
    sys_object_id: str
    snmp_port: int | None = Field(description="SNMP v2c (community 'public'); None = off")
    echo_port: int = Field(description="UDP echo (RFC 862)")
    tcp_port: int = Field(description="TCP management service (a banner line, then echo)")
    http_port: int | None = Field(default=None, description="JSON status API (encoders, decoders)")
    stream: str | None = Field(default=None, description="id of the stream it sends, if any")
    fault: SimFault = Field(default_factory=SimFault)


# --- jobs (playbooks through the agent) -------------------------------------------------


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    successful = "successful"
    failed = "failed"
    canceled = "canceled"
    timeout = "timeout"
    interrupted = "interrupted"

    @property
    def final(self) -> bool:
        return self not in (JobStatus.queued, JobStatus.running)


class PlaybookInfo(Wire):
    """One catalog entry; ``vars_schema`` is a JSON schema the desktop renders a form from."""

    name: str
    title: str
    description: str = ""
    role: Role
    vars_schema: dict[str, Any]
    targets: list[str] = Field(description="Inventory groups the playbook may run against")
    timeout_s: float
    changes_devices: bool


class PlaybookList(Wire):
    playbooks: list[PlaybookInfo]


class JobRequest(Wire):
    playbook: str = Field(max_length=64)
    limit: list[str] = Field(default_factory=list, max_length=500,
                             description="Host or group names; empty = all allowed targets")
    vars: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)


class Job(Wire):
    id: int
    playbook: str
    status: JobStatus
    user: str
    limit: list[str]
    vars: dict[str, Any]
    created: float
    started: float | None = None
    finished: float | None = None
    reason: str = Field(default="", description="Why it ended this way, if not successful")
    rc: int | None = None
    stats: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Per host: ok, changed, failures, unreachable, ...")
    events: int = Field(default=0, description="Events received so far")


class JobList(Wire):
    jobs: list[Job]


class JobEvent(Wire):
    seq: int
    t: float
    event: str = Field(description="ansible-runner event, e.g. runner_on_ok")
    host: str | None = None
    task: str | None = None
    play: str | None = None
    changed: bool = False
    failed: bool = False
    stdout: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class JobEventPage(Wire):
    job: int
    events: list[JobEvent]
    next_after: int | None = Field(description="Pass as ?after= for the next page; None = end")


# --- discovery (issue 5) ------------------------------------------------------------------


class DevicePatch(Wire):
    """``PATCH /api/v1/devices/{id}``: manual overrides a sweep never overwrites; ``null``
    removes an override (the discovered value shows again)."""

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    role: DeviceRole | None = None
    notes: str | None = Field(default=None, max_length=2000)


class DiscoveryRunRequest(Wire):
    networks: list[str] = Field(default_factory=list, max_length=64,
                                description="CIDRs; empty = the configured [[networks]]")
    rate_pps: float | None = Field(default=None, ge=1, le=100000)
    confirm_large: bool = Field(default=False,
                                description="Allow more than [discovery].max_hosts addresses")


class DiscoveryEvent(Wire):
    t: float
    device: str
    kind: Literal["new", "gone", "back", "changed"]
    detail: dict[str, Any] = Field(default_factory=dict)


class DiscoveryRun(Wire):
    id: str
    state: Literal["running", "done", "failed", "cancelled"]
    networks: list[str]
    started: float
    finished: float | None = None
    phase: str = Field(default="", description="sweep, identify, classify, done")
    done: int = Field(default=0, description="Addresses swept so far")
    total: int = 0
    found: int = Field(default=0, description="Live hosts found so far")
    duration_s: float | None = None
    error: str | None = None
    devices: list[str] = Field(default_factory=list, description="ids of the devices seen")
    events: list[DiscoveryEvent] = Field(default_factory=list)
