"""What one sweep observed about one address (internal; the wire sees contract models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SnmpInfo:
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    sys_location: str = ""
    engine_id: str = ""
    interfaces: list[dict[str, Any]] = field(default_factory=list)  # index, name, mac
    lldp: list[dict[str, str]] = field(default_factory=list)  # local_port, chassis, port, name


@dataclass
class MdnsService:
    type: str  # e.g. "_nmos-node._tcp.local."
    name: str
    port: int
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpInfo:
    port: int
    server: str = ""
    title: str = ""


@dataclass
class Host:
    address: str
    network: str = ""
    mac: str | None = None
    via: set[str] = field(default_factory=set)  # arp, icmp, tcp, snmp, mdns
    rtt_s: float | None = None
    open_ports: list[int] = field(default_factory=list)
    oui_vendor: str = ""
    snmp: SnmpInfo | None = None
    mdns: list[MdnsService] = field(default_factory=list)
    http: HttpInfo | None = None

    def facts(self) -> dict[str, Any]:
        """The flat evidence the classification rules match on."""
        s = self.snmp or SnmpInfo()
        return {
            "address": self.address,
            "mac": self.mac or "",
            "oui_vendor": self.oui_vendor,
            "open_ports": sorted(self.open_ports),
            "snmp.sys_name": s.sys_name,
            "snmp.sys_descr": s.sys_descr,
            "snmp.sys_object_id": s.sys_object_id,
            "snmp.sys_location": s.sys_location,
            "mdns.services": sorted({m.type for m in self.mdns}),
            "mdns.names": sorted({m.name for m in self.mdns}),
            "http.server": self.http.server if self.http else "",
            "http.title": self.http.title if self.http else "",
        }
