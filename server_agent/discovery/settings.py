"""From ``[discovery]`` (and CLI flags) to the engine's settings."""

from __future__ import annotations

from collections.abc import Callable

from server_agent.config import DiscoverySection
from server_agent.discovery.engine import Settings
from server_agent.discovery.errors import SnmpConfigError
from server_agent.discovery.identify import IdentifySettings
from server_agent.discovery.snmp import SnmpV3User
from server_agent.discovery.sweep import SweepSettings


def v3_user(d: DiscoverySection, secret: Callable[[str], str | None]) -> SnmpV3User | None:
    """The ``[discovery]`` SNMPv3 user with its keys from ``secret(ref)`` (the credential
    store); None when version 3 is off. A missing key raises :class:`SnmpConfigError` naming
    the credential-store entry (never its value)."""
    if "3" not in d.snmp_version or d.snmp_v3_user is None:
        return None
    keys: dict[str, str] = {}
    for kind, proto, ref in (("auth", d.snmp_v3_auth_protocol, d.snmp_v3_auth_key_ref),
                             ("priv", d.snmp_v3_priv_protocol, d.snmp_v3_priv_key_ref)):
        value = secret(ref) if proto != "none" else ""
        if proto != "none" and not value:
            raise SnmpConfigError(
                f"[discovery].snmp_v3_{kind}_key_ref: the credential store has no {ref!r} "
                f"(the {kind} key of SNMPv3 user {d.snmp_v3_user!r}); store it or drop \"3\" "
                "from snmp_version")
        keys[kind] = value or ""
    return SnmpV3User(d.snmp_v3_user, d.snmp_v3_auth_protocol, keys["auth"],
                      d.snmp_v3_priv_protocol, keys["priv"])


def engine_settings(d: DiscoverySection, community: str, *, rate_pps: float | None = None,
                    allow_large: bool = False, v3: SnmpV3User | None = None) -> Settings:
    rate = rate_pps or d.rate_pps
    versions = tuple(d.snmp_version)
    if "3" in versions and v3 is None:
        raise SnmpConfigError("SNMP version 3 is enabled but no SNMPv3 user (with its keys) "
                              "was given")
    return Settings(
        sweep=SweepSettings(rate_pps=rate, wait_s=d.wait_s, retries=d.retries,
                            max_duration_s=d.max_duration_s, tcp_ports=tuple(d.tcp_ports),
                            tcp_timeout_s=d.tcp_timeout_s, tcp_sweep_max=d.tcp_sweep_max),
        identify=IdentifySettings(snmp=d.snmp, snmp_community=community,
                                  snmp_port=d.snmp_port, snmp_timeout_s=d.snmp_timeout_s,
                                  snmp_versions=versions, snmp_v3=v3,
                                  mdns=d.mdns, mdns_wait_s=d.mdns_wait_s, http=d.http,
                                  rate_pps=rate),
        max_hosts=d.max_hosts, allow_large=allow_large)
