"""The agent's configuration: one TOML file, validated into :class:`AgentConfig`.

Each capability owns one table (``[agent]``, ``[[devices]]``, ``[probes]``, ``[alarms]``,
``[history]``, ``[metrics]`` ...). Unknown keys are errors, so a typo never silently falls back
to a default. :func:`load_config` raises :class:`ConfigError` whose message names the file and
the key, e.g. ``agent.toml: devices[2].address: not an IP address ('10.0.0.300')``.

Secrets never sit in this file: it names them (``*_ref``) and the agent's credential store in
``state_dir`` holds them.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from server_agent.contract import DeviceRole, PathHop
from server_agent.discovery.section import DiscoverySection, SnmpVersion
from server_agent.jobs.settings import JobsSection

__all__ = ["AgentConfig", "ConfigError", "DiscoverySection", "JobsSection", "SnmpVersion",
           "load_config", "parse_config"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_PROBE = re.compile(r"^(icmp|tcp:\d{1,5}|udp:\d{1,5})$")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentSection(_Table):
    flypack: str = Field(default="flypack-01", description="This flypack's id (metric label)")
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    state_dir: Path = Path("/var/lib/flypack-agent")
    access_token_ttl_s: float = Field(default=900.0, ge=30, le=86400)
    refresh_token_ttl_s: float = Field(default=7 * 86400.0, ge=300, le=90 * 86400)

    @field_validator("flypack")
    @classmethod
    def _flypack_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 63 characters")
        return v

    @field_validator("listen")
    @classmethod
    def _listen_ip(cls, v: str) -> str:
        ipaddress.ip_address(v)
        return v

    @model_validator(mode="after")
    def _tls_pair(self) -> AgentSection:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        if self.tls_cert is None and not ipaddress.ip_address(self.listen).is_loopback:
            raise ValueError(
                f"listen = {self.listen!r} without TLS: plain HTTP is only allowed on loopback; "
                "set tls_cert/tls_key (see `flypack-agent cert create`) or listen on 127.0.0.1"
            )
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


class NetworkSection(_Table):
    name: str
    cidr: str
    description: str = ""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return str(ipaddress.ip_network(v, strict=True))


class DeviceSection(_Table):
    name: str
    address: str
    role: DeviceRole = DeviceRole.unknown
    vendor: str = ""
    model: str = ""
    probes: list[str] = Field(default_factory=lambda: ["icmp"])
    rtt_budget_ms: float | None = Field(default=None, gt=0)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 63 characters")
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"not an IP address ({v!r})") from None

    @field_validator("probes")
    @classmethod
    def _probes(cls, v: list[str]) -> list[str]:
        for p in v:
            if not _PROBE.match(p) or (":" in p and not 0 < int(p.split(":")[1]) < 65536):
                raise ValueError(f"unknown probe {p!r}: use 'icmp', 'tcp:PORT' or 'udp:PORT'")
        return v


class ProbesSection(_Table):
    interval_s: float = Field(default=1.0, ge=0.1, le=3600)
    timeout_s: float = Field(default=1.0, ge=0.05, le=30)
    loss_window: int = Field(default=20, ge=2, le=3600, description="Probes in the loss window")
    starved_lag_ms: float = Field(
        default=5.0, gt=0, le=10000,
        description="Event-loop lateness from which the agent counts itself starved; probe "
                    "samples taken then are held (not learned, judged only on the rest)",
    )


class AlarmsSection(_Table):
    loss_raise_ratio: float = Field(default=0.05, ge=0, le=1)
    loss_clear_ratio: float = Field(default=0.0, ge=0, le=1)
    unreachable_after: int = Field(default=3, ge=1, le=1000, description="Failed probes in a row")
    reachable_after: int = Field(default=3, ge=1, le=1000, description="Good probes in a row")
    rtt_deviation_factor: float = Field(default=4.0, gt=1)
    rtt_deviation_min_ms: float = Field(default=5.0, ge=0)
    baseline_samples: int = Field(default=30, ge=5, le=100000)
    baseline_alpha: float = Field(
        default=0.01, gt=0, le=0.5,
        description="EWMA gain of the RTT baseline after learning (adapts only while normal)",
    )
    raise_after_s: float = Field(default=3.0, ge=0, le=3600)
    clear_after_s: float = Field(default=5.0, ge=0, le=3600)
    rollup_min_devices: int = Field(
        default=4, ge=2, le=100000,
        description="Devices (of one probe kind) that must be compared at once to see a "
                    "common cause; fewer, and each device is judged alone",
    )
    rollup_share: float = Field(
        default=0.2, gt=0, le=1,
        description="Share of those devices answering late at once that raises one agent "
                    "condition (its host or its own link) instead of an alarm per device",
    )
    rollup_window_s: float = Field(
        default=2.0, gt=0, le=3600,
        description="'At once': each device's latest RTT within this window is compared",
    )
    agent_lag_alarm_ms: float = Field(
        default=250.0, gt=0, le=60000,
        description="Event-loop lag of the agent itself, sustained, that raises agent_starved",
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> AlarmsSection:
        if self.loss_clear_ratio > self.loss_raise_ratio:
            raise ValueError("loss_clear_ratio must not exceed loss_raise_ratio")
        return self


class HistorySection(_Table):
    victoriametrics_url: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:8428; unset = buffers only"
    )
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    scrape_interval_s: float = Field(default=5.0, ge=1, le=300)

    @field_validator("victoriametrics_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^/\s?#]+/?$", v):
            raise ValueError("use a base URL like 'http://127.0.0.1:8428' (no path, no query)")
        return v.rstrip("/") if v else v


class MetricsSection(_Table):
    loopback_only: bool = Field(
        default=False, description="Serve /metrics without a token, to loopback clients only"
    )
    scrape_token_ref: str = Field(
        default="metrics-scrape-token",
        description="Credential-store name of the /metrics bearer token (created on first start)",
    )

    @field_validator("scrape_token_ref")
    @classmethod
    def _ref(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 63 characters")
        return v


class SimSection(_Table):
    """The simulated flypack segment (``flypack-agent demo``, training, tests): loopback only."""

    enabled: bool = False
    scale: str = Field(default="small", pattern="^(small|seed)$")
    base_address: str = "127.77.0.0"
    snmp: bool = Field(default=True, description="Serve SNMP with snmpsim (a child process)")
    snmp_port: int = Field(default=1161, ge=1, le=65535)
    echo_port: int | None = Field(default=None, ge=1, le=65535,
                                  description="UDP echo; unset = 7 as root, else 7007")
    tcp_port: int = Field(default=8023, ge=1, le=65535)
    http_port: int = Field(default=8080, ge=1, le=65535)
    streams: int = Field(default=3, ge=0, le=16, description="Encoders that send a TS stream")
    stream_port: int = Field(default=5001, ge=1024, le=65000, description="First stream port")
    stream_mbps: float = Field(default=3.0, ge=0.5, le=20, description="TS mux rate (CBR)")
    cache_dir: Path | None = Field(default=None, description="Encoded clip cache; unset = "
                                   "~/.cache/flypack/sim")

    @field_validator("base_address")
    @classmethod
    def _loopback(cls, v: str) -> str:
        try:
            a = ipaddress.IPv4Address(v)
        except ValueError:
            raise ValueError(f"not an IPv4 address ({v!r})") from None
        if not (a.is_loopback and int(a) % 65536 == 0):
            raise ValueError("use a 127.x.0.0 address (the simulator sends only to loopback)")
        return v


class StreamSection(_Table):
    """One monitored stream (``[[streams]]``); URLs as in design §8."""

    id: str
    title: str = ""
    legs: list[str] = Field(min_length=1, max_length=2)
    expected_dscp: int | None = Field(default=None, ge=0, le=63)
    bitrate_min_bps: float | None = Field(default=None, ge=0)
    bitrate_max_bps: float | None = Field(default=None, ge=0)
    buffer_ms: float = Field(default=50.0, gt=0, le=10000)
    tr101290: dict[str, float] = Field(default_factory=dict)
    path: list[PathHop] = Field(default_factory=list, max_length=32,
                                description="Hops in signal order ([[streams.path]])")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 63 characters")
        return v

    @field_validator("legs")
    @classmethod
    def _legs(cls, v: list[str]) -> list[str]:
        from server_agent.video.udp.url import parse_url

        return [str(parse_url(u)) for u in v]

    @field_validator("tr101290")
    @classmethod
    def _thresholds(cls, v: dict[str, float]) -> dict[str, float]:
        from server_agent.video.streams.settings import check_thresholds

        return check_thresholds(v)

    @model_validator(mode="after")
    def _path(self) -> StreamSection:
        from server_agent.video.paths import validate_path

        validate_path(self.path, len(self.legs))  # devices are checked when it runs
        return self


class LoadgenSection(_Table):
    """Synthetic series for benchmarks and load tests (off in production)."""

    series: int = Field(default=0, ge=0, le=100000, description="0 = off")
    rate_hz: float = Field(default=10.0, gt=0, le=100)


class AgentConfig(_Table):
    agent: AgentSection = AgentSection()
    networks: list[NetworkSection] = Field(default_factory=list)
    devices: list[DeviceSection] = Field(default_factory=list)
    probes: ProbesSection = ProbesSection()
    alarms: AlarmsSection = AlarmsSection()
    history: HistorySection = HistorySection()
    metrics: MetricsSection = MetricsSection()
    sim: SimSection = SimSection()
    loadgen: LoadgenSection = LoadgenSection()
    discovery: DiscoverySection = DiscoverySection()
    streams: list[StreamSection] = Field(default_factory=list)
    jobs: JobsSection = JobsSection()

    @model_validator(mode="after")
    def _unique_names(self) -> AgentConfig:
        seen: set[str] = set()
        for d in self.devices:
            if d.name in seen:
                raise ValueError(f"device name {d.name!r} is used twice; names must be unique")
            seen.add(d.name)
        ids = [st.id for st in self.streams]
        if len(ids) != len(set(ids)):
            raise ValueError("a stream id is used twice; stream ids must be unique")
        return self


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse_config(data: dict[str, Any], source: str = "<config>") -> AgentConfig:
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _where(tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/configuration.md)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{source}: {key}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def load_config(path: Path) -> AgentConfig:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; pass --config with the agent's TOML file "
            "(docs/configuration.md has an example)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    cfg = parse_config(data, str(path))
    base = path.parent
    agent = cfg.agent

    def rel(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    return cfg.model_copy(
        update={
            "agent": agent.model_copy(
                update={
                    "state_dir": rel(agent.state_dir),
                    "tls_cert": rel(agent.tls_cert),
                    "tls_key": rel(agent.tls_key),
                }
            ),
            "discovery": cfg.discovery.model_copy(
                update={"rules_file": rel(cfg.discovery.rules_file)}),
        }
    )
