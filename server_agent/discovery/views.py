"""Inventory rows as the wire sees them (:class:`Device`) and as the probes see them."""

from __future__ import annotations

import ipaddress
from typing import Any

from server_agent.config import DeviceSection
from server_agent.contract import Device, DeviceRole


def probes_for(row: dict[str, Any]) -> list[str]:
    via = row["facts"].get("via", [])
    loopback = ipaddress.IPv4Address(row["address"]).is_loopback
    if not loopback and ("arp" in via or "icmp" in via):
        return ["icmp"]
    ports = row["facts"].get("open_ports") or []
    return [f"tcp:{ports[0]}"] if ports else []


def device_view(row: dict[str, Any]) -> Device:
    f = row["facts"]
    snmp = f.get("snmp") or {}
    overrides = [k for k, col in (("name", "name_override"), ("role", "role_override"))
                 if row[col]] + (["notes"] if row["notes"] else [])
    return Device(
        id=row["id"], name=row["name"], role=DeviceRole(row["effective_role"]),
        address=row["address"], vendor=row["vendor"], model=row["model"],
        source="discovery", mac=row["mac"], network=row["network"] or None,
        first_seen=row["first_seen"], last_seen=row["last_seen"], present=row["present"],
        previous_addresses=row["previous_addresses"], found_by=f.get("via", []),
        open_ports=f.get("open_ports", []),
        services=sorted({m["type"] for m in f.get("mdns", [])}),
        sys_descr=snmp.get("sys_descr", ""), sys_object_id=snmp.get("sys_object_id", ""),
        interfaces=snmp.get("interfaces", []), lldp_neighbours=snmp.get("lldp", []),
        rule=row["rule"], evidence=row["evidence"], overrides=overrides, notes=row["notes"])


def target_for(row: dict[str, Any]) -> DeviceSection:
    return DeviceSection(name=row["id"], address=row["address"],
                         role=DeviceRole(row["effective_role"]), vendor=row["vendor"],
                         model=row["model"], probes=probes_for(row))


def matches(dev: Device, role: str | None = None, state: str | None = None,
            source: str | None = None, vendor: str | None = None, network: str | None = None,
            q: str | None = None, present: bool | None = None) -> bool:
    """The ``GET /api/v1/devices`` filters (all given ones must hold)."""
    if role and dev.role.value != role:
        return False
    if state and dev.state.value != state:
        return False
    if source and dev.source != source:
        return False
    if vendor and vendor.lower() not in dev.vendor.lower():
        return False
    if present is not None and dev.present is not None and dev.present != present:
        return False
    if network:
        net = ipaddress.ip_network(network, strict=False)
        if ipaddress.ip_address(dev.address) not in net:
            return False
    if q:
        needle = q.lower()
        hay = " ".join([dev.id, dev.name, dev.address, dev.mac or "", dev.vendor, dev.model])
        if needle not in hay.lower():
            return False
    return True
