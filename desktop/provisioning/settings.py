"""What a flypack server is deployed with: the SSH target and the flypack's own settings.

``validate()`` returns every problem as a sentence that says what to change (the wizard shows
them next to its fields); ``to_host_vars()`` turns valid settings into the variables of
deploy/site.yml (docs/provisioning.md lists them).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
IFACE_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
HOSTNAME_PATTERN = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


@dataclass(frozen=True)
class Target:
    """The machine to deploy to, as reached over SSH."""

    host: str
    port: int = 22
    user: str = "root"
    password: str | None = None
    key_file: str | None = None
    become_password: str | None = None  # sudo password when user is not root
    host_key_sha256: str | None = None  # pinned "SHA256:<base64>" as ssh-keygen -lf prints


@dataclass(frozen=True)
class MonitoredNetwork:
    interface: str
    address: str  # interface address with prefix, "10.0.0.5/16"
    vlan: int | None = None
    media: bool = True  # media NICs get rp_filter 2 and pass multicast through the firewall


@dataclass(frozen=True)
class FlypackSettings:
    flypack_id: str  # [a-z0-9-], e.g. "flypack-01"
    mgmt_interface: str
    mgmt_address: str  # "192.168.1.10/24"
    mgmt_gateway: str | None = None
    dns: tuple[str, ...] = ()
    monitored: tuple[MonitoredNetwork, ...] = ()
    admin_user: str = "admin"
    agent_port: int = 8443
    ntp_servers: tuple[str, ...] = ()


def _iface(addr: str, what: str, problems: list[str]) -> ipaddress.IPv4Interface | None:
    try:
        iface = ipaddress.IPv4Interface(addr.strip())
    except ValueError:
        problems.append(f"{what}: '{addr}' is not an IPv4 address with a prefix; "
                        "write it like 192.168.1.10/24")
        return None
    if "/" not in addr:
        problems.append(f"{what}: '{addr}' has no prefix length; add one, e.g. {addr}/24")
        return None
    net = iface.network
    if net.prefixlen < 31 and iface.ip in (net.network_address, net.broadcast_address):
        kind = "network" if iface.ip == net.network_address else "broadcast"
        problems.append(f"{what}: {iface.ip} is the {kind} address of {net}; "
                        "choose a host address inside it")
        return None
    return iface


def _device_name(interface: str, vlan: int | None) -> str:
    return f"{interface}.{vlan}" if vlan is not None else interface


def _check_monitored(s: FlypackSettings, problems: list[str],
                     nets: list[tuple[str, ipaddress.IPv4Network]]) -> None:
    seen_devices = {s.mgmt_interface}
    for i, m in enumerate(s.monitored, 1):
        what = f"monitored network {i} ({m.interface}{'' if m.vlan is None else f' VLAN {m.vlan}'})"
        if not IFACE_PATTERN.match(m.interface):
            problems.append(f"{what}: interface name '{m.interface}' is not valid "
                            "(1-15 letters, digits, '-', '_', '.')")
        if m.vlan is not None and not 1 <= m.vlan <= 4094:
            problems.append(f"{what}: VLAN {m.vlan} is outside 1..4094")
        dev = _device_name(m.interface, m.vlan)
        if len(dev) > 15:
            problems.append(f"{what}: '{dev}' is longer than Linux's 15 characters; "
                            "use a shorter interface name")
        if dev in seen_devices:
            problems.append(f"{what}: {dev} is used twice; give each network its own "
                            "interface or VLAN")
        seen_devices.add(dev)
        iface = _iface(m.address, what, problems)
        if iface is not None:
            nets.append((what, iface.network))


def validate(s: FlypackSettings) -> list[str]:
    """Human-readable problems, [] when the settings are valid."""
    problems: list[str] = []
    if not ID_PATTERN.match(s.flypack_id):
        problems.append(f"flypack id '{s.flypack_id}': use lower-case letters, digits and '-' "
                        "(not at the start or end), e.g. flypack-01")
    if not IFACE_PATTERN.match(s.mgmt_interface):
        problems.append(f"management interface '{s.mgmt_interface}' is not a valid interface "
                        "name (1-15 letters, digits, '-', '_', '.'), e.g. eth0")
    nets: list[tuple[str, ipaddress.IPv4Network]] = []
    mgmt = _iface(s.mgmt_address, "management address", problems)
    if mgmt is not None:
        nets.append(("management network", mgmt.network))
    if s.mgmt_gateway:
        try:
            gw = ipaddress.IPv4Address(s.mgmt_gateway.strip())
        except ValueError:
            problems.append(f"management gateway '{s.mgmt_gateway}' is not an IPv4 address")
        else:
            if mgmt is not None and gw not in mgmt.network:
                problems.append(f"management gateway {gw} is outside {mgmt.network}; "
                                "use an address of the management network")
            elif mgmt is not None and gw == mgmt.ip:
                problems.append(f"management gateway {gw} is this server's own address")
    for d in s.dns:
        try:
            ipaddress.ip_address(d.strip())
        except ValueError:
            problems.append(f"DNS server '{d}' is not an IP address")
    for n in s.ntp_servers:
        if not HOSTNAME_PATTERN.match(n.strip()):
            problems.append(f"NTP server '{n}' is not a host name or address")
    _check_monitored(s, problems, nets)
    for i, (what_a, a) in enumerate(nets):
        for what_b, b in nets[i + 1:]:
            if a.overlaps(b):
                problems.append(f"{what_b} {b} overlaps the {what_a} {a}; "
                                "networks must not overlap: change one of the addresses")
    if not 1 <= s.agent_port <= 65535:
        problems.append(f"agent port {s.agent_port} is outside 1..65535 (default 8443)")
    elif s.agent_port in (22,):
        problems.append("agent port 22 is SSH's; choose another, e.g. 8443")
    if not re.match(r"^[a-z_][a-z0-9_-]{0,31}$", s.admin_user):
        problems.append(f"admin user '{s.admin_user}': use lower-case letters, digits, '_' "
                        "or '-' (at most 32), e.g. admin")
    return problems


def validate_target(t: Target) -> list[str]:
    """Problems with the SSH target (the wizard's first page)."""
    problems: list[str] = []
    if not t.host.strip() or not HOSTNAME_PATTERN.match(t.host.strip()):
        problems.append(f"host '{t.host}' is not a host name or IP address")
    if not 1 <= t.port <= 65535:
        problems.append(f"SSH port {t.port} is outside 1..65535 (usually 22)")
    if not t.user.strip():
        problems.append("SSH user is empty (usually root, or a user with sudo)")
    if not t.password and not t.key_file:
        problems.append("give the SSH password or a private key file")
    if t.host_key_sha256 and not t.host_key_sha256.startswith("SHA256:"):
        problems.append("the pinned host key must look like 'SHA256:…' as ssh-keygen -lf "
                        "prints it")
    return problems


def to_host_vars(s: FlypackSettings) -> dict[str, object]:
    """The deploy's variables for one flypack (see docs/provisioning.md)."""
    mgmt = ipaddress.IPv4Interface(s.mgmt_address.strip())
    monitored: list[dict[str, object]] = []
    for m in s.monitored:
        iface = ipaddress.IPv4Interface(m.address.strip())
        monitored.append({
            "interface": m.interface, "device": _device_name(m.interface, m.vlan),
            "address": str(iface), "network": str(iface.network), "vlan": m.vlan,
            "media": m.media,
        })
    return {
        "flypack_id": s.flypack_id,
        "flypack_mgmt_interface": s.mgmt_interface,
        "flypack_mgmt_address": str(mgmt),
        "flypack_mgmt_ip": str(mgmt.ip),
        "flypack_mgmt_network": str(mgmt.network),
        "flypack_mgmt_gateway": s.mgmt_gateway.strip() if s.mgmt_gateway else None,
        "flypack_dns": list(s.dns),
        "flypack_ntp_servers": list(s.ntp_servers),
        "flypack_monitored": monitored,
        "flypack_admin_user": s.admin_user,
        "flypack_agent_port": s.agent_port,
    }
