"""The ``[discovery]`` table of the agent's configuration (device discovery). Its own module,
like ``[jobs]``: imports nothing of the agent, so that config.py and discovery both can."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


SnmpVersion = Literal["2c", "3"]


def _v2c_only() -> list[SnmpVersion]:
    return ["2c"]


class DiscoverySection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    """Device discovery (``POST /api/v1/discovery/runs``, ``flypack-agent discover``)."""

    rate_pps: float = Field(default=2000.0, ge=1, le=100000,
                            description="Packets per second, everything a sweep sends")
    wait_s: float = Field(default=1.0, ge=0.05, le=10, description="Wait for late replies")
    retries: int = Field(default=0, ge=0, le=5, description="ARP re-asks of silent addresses")
    max_duration_s: float = Field(default=300.0, ge=1, le=3600)
    max_hosts: int = Field(default=65536, ge=1, le=1 << 24,
                           description="Largest sweep without explicit confirmation")
    tcp_ports: list[int] = Field(default_factory=lambda: [22, 80, 443, 554, 1935, 8080])
    tcp_timeout_s: float = Field(default=1.0, ge=0.05, le=10)
    tcp_sweep_max: int = Field(default=1024, ge=0, le=65536,
                               description="Routed ranges up to this size get TCP on every "
                               "address (finds hosts that drop ICMP)")
    snmp: bool = True
    snmp_port: int = Field(default=161, ge=1, le=65535)
    snmp_community_ref: str = Field(
        default="snmp-community",
        description="Credential-store name of the SNMP v2c community ('public' when unset)")
    snmp_version: list[SnmpVersion] = Field(
        default_factory=_v2c_only,
        description="SNMP versions tried in order per address: \"2c\", \"3\" or a list")
    snmp_v3_user: str | None = Field(default=None, description="SNMPv3 (USM) user name")
    snmp_v3_auth_protocol: Literal["none", "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384",
                                   "SHA-512"] = "SHA"
    snmp_v3_priv_protocol: Literal["none", "DES", "AES", "AES-192", "AES-256"] = "AES"
    snmp_v3_auth_key_ref: str = Field(
        default="snmp-v3-auth-key", description="Credential-store name of the v3 auth key")
    snmp_v3_priv_key_ref: str = Field(
        default="snmp-v3-priv-key", description="Credential-store name of the v3 priv key")
    snmp_timeout_s: float = Field(default=1.0, ge=0.05, le=10)
    mdns: bool = True
    mdns_wait_s: float = Field(default=2.0, ge=0.1, le=30)
    http: bool = True
    gone_after_sweeps: int = Field(default=3, ge=1, le=1000)
    rules_file: Path | None = Field(default=None, description="unset = the shipped rules")
    interval_s: float | None = Field(default=None, ge=60, le=86400,
                                     description="Sweep [[networks]] this often; unset = never")
    probe_discovered: bool = Field(default=True,
                                   description="Probe discovered devices like configured ones")

    @field_validator("tcp_ports")
    @classmethod
    def _ports(cls, v: list[int]) -> list[int]:
        if len(v) > 64 or not all(0 < p < 65536 for p in v):
            raise ValueError("at most 64 ports, each 1..65535")
        return sorted(set(v))

    @field_validator("snmp_community_ref", "snmp_v3_auth_key_ref", "snmp_v3_priv_key_ref")
    @classmethod
    def _ref(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 63 characters")
        return v

    @field_validator("snmp_version", mode="before")
    @classmethod
    def _versions(cls, v: Any) -> Any:
        v = [v] if isinstance(v, str) else v
        if isinstance(v, list) and (not v or len(set(map(str, v))) != len(v)):
            raise ValueError('use "2c", "3" or a list of both in the order to try, each once')
        return v

    @field_validator("snmp_v3_user")
    @classmethod
    def _user(cls, v: str | None) -> str | None:
        if v is not None and not 0 < len(v) <= 32:
            raise ValueError("use 1..32 characters (RFC 3414 securityName)")
        return v

    @model_validator(mode="after")
    def _v3(self) -> DiscoverySection:
        if "3" in self.snmp_version and self.snmp_v3_user is None:
            raise ValueError('snmp_version includes "3": set snmp_v3_user (its keys go into '
                             "the credential store as snmp_v3_auth_key_ref/_priv_key_ref)")
        if self.snmp_v3_auth_protocol == "none" and self.snmp_v3_priv_protocol != "none":
            raise ValueError("snmp_v3_priv_protocol needs an snmp_v3_auth_protocol "
                             "(or set it to \"none\")")
        return self
