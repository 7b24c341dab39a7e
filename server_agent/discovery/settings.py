"""From ``[discovery]`` (and CLI flags) to the engine's settings."""

from __future__ import annotations

from server_agent.config import DiscoverySection
from server_agent.discovery.engine import Settings
from server_agent.discovery.identify import IdentifySettings
from server_agent.discovery.sweep import SweepSettings


def engine_settings(d: DiscoverySection, community: str, *, rate_pps: float | None = None,
                    allow_large: bool = False) -> Settings:
    rate = rate_pps or d.rate_pps
    return Settings(
        sweep=SweepSettings(rate_pps=rate, wait_s=d.wait_s, retries=d.retries,
                            max_duration_s=d.max_duration_s, tcp_ports=tuple(d.tcp_ports),
                            tcp_timeout_s=d.tcp_timeout_s, tcp_sweep_max=d.tcp_sweep_max),
        identify=IdentifySettings(snmp=d.snmp, snmp_community=community,
                                  snmp_port=d.snmp_port, snmp_timeout_s=d.snmp_timeout_s,
                                  mdns=d.mdns, mdns_wait_s=d.mdns_wait_s, http=d.http,
                                  rate_pps=rate),
        max_hosts=d.max_hosts, allow_large=allow_large)
