"""The wizard's settings form without Qt: text fields -> :class:`FlypackSettings`, and each
problem of ``settings.validate`` mapped to the field it is about (shown under that field).

    values = FormValues(flypack_id="flypack-01", mgmt_interface="eth0", ...)
    settings, problems = build(values)       # problems: {field: [message, ...]}

Field keys: flypack_id, mgmt_interface, mgmt_address, mgmt_gateway, dns, ntp, admin_user,
agent_port, ``net:<n>`` (n-th monitored network, 1-based) and ``form`` (anything else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from desktop.provisioning.settings import FlypackSettings, MonitoredNetwork, validate

__all__ = ["FormValues", "NetworkRow", "build", "field_of", "split_list"]

_PREFIXES = (
    ("flypack id", "flypack_id"),
    ("management interface", "mgmt_interface"),
    ("management address", "mgmt_address"),
    ("management gateway", "mgmt_gateway"),
    ("DNS server", "dns"),
    ("NTP server", "ntp"),
    ("agent port", "agent_port"),
    ("admin user", "admin_user"),
)
_NET = re.compile(r"^monitored network (\d+)\b")


@dataclass
class NetworkRow:
    interface: str
    address: str
    vlan: int = 0  # 0 = untagged (a stepper cannot be empty)
    media: bool = True


@dataclass
class FormValues:
    flypack_id: str = ""
    mgmt_interface: str = ""
    mgmt_address: str = ""
    mgmt_gateway: str = ""
    dns: str = ""
    ntp: str = ""
    admin_user: str = "admin"
    agent_port: int = 8443
    networks: list[NetworkRow] = field(default_factory=list)


def split_list(text: str) -> tuple[str, ...]:
    return tuple(p for p in re.split(r"[\s,;]+", text.strip()) if p)


def field_of(message: str) -> str:
    """Which field a validation message is about (the first one it names)."""
    m = _NET.match(message)
    if m:
        return f"net:{m.group(1)}"
    for prefix, key in _PREFIXES:
        if message.startswith(prefix):
            return key
    return "form"


def build(v: FormValues) -> tuple[FlypackSettings, dict[str, list[str]]]:
    s = FlypackSettings(
        flypack_id=v.flypack_id.strip(), mgmt_interface=v.mgmt_interface.strip(),
        mgmt_address=v.mgmt_address.strip(), mgmt_gateway=v.mgmt_gateway.strip() or None,
        dns=split_list(v.dns), ntp_servers=split_list(v.ntp),
        monitored=tuple(MonitoredNetwork(r.interface.strip(), r.address.strip(),
                                         r.vlan or None, r.media) for r in v.networks),
        admin_user=v.admin_user.strip(), agent_port=v.agent_port)
    problems: dict[str, list[str]] = {}
    for message in validate(s):
        problems.setdefault(field_of(message), []).append(message)
    return s, problems
