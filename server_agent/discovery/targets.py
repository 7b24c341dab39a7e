"""What a sweep covers: parsed CIDRs and, per address, how to find out whether it is alive.

    parse_cidrs(["198.51.100.0/24"], max_hosts)  -> [IPv4Network]   (TargetError when bad/too big)
    plan(networks)                               -> Plan: on-link per interface (ARP),
                                                    loopback (services only), routed (ICMP)

On-link means: inside the subnet of one of this host's interfaces (psutil lists them), so an
ARP request on that interface reaches it. Loopback addresses all answer ICMP and have no ARP
(design §5): they count as alive only when a service (TCP, SNMP) answers.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from server_agent.discovery.errors import TargetError

MAX_HOSTS_DEFAULT = 65536
MAX_LOOPBACK_HOSTS = 4096


def parse_cidrs(texts: list[str], max_hosts: int = MAX_HOSTS_DEFAULT,
                allow_large: bool = False) -> list[ipaddress.IPv4Network]:
    if not texts:
        raise TargetError("no network to sweep: name at least one CIDR, e.g. 198.51.100.0/24")
    nets: list[ipaddress.IPv4Network] = []
    for text in texts:
        try:
            net = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise TargetError(f"{text!r} is not a CIDR; write it like 192.168.1.0/24") from None
        if not isinstance(net, ipaddress.IPv4Network):
            raise TargetError(f"{text}: IPv6 sweeps are not supported; give an IPv4 CIDR")
        if net.is_multicast or net.is_unspecified or int(net.network_address) >> 28 == 0xF:
            raise TargetError(f"{text}: not a unicast network; give a device subnet")
        nets.append(net)
    nets = list(ipaddress.collapse_addresses(nets))
    total = sum(n.num_addresses for n in nets)
    if total > max_hosts and not allow_large:
        raise TargetError(
            f"{', '.join(texts)} covers {total} addresses, more than the limit of {max_hosts}; "
            "sweep a smaller range, or confirm with --yes (API: \"confirm_large\": true)")
    return nets


def hosts(net: ipaddress.IPv4Network) -> list[int]:
    """Address integers to probe: without network and broadcast address for /30 and larger."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.prefixlen < 31:
        first, last = first + 1, last - 1
    return list(range(first, last + 1))


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    index: int
    mac: bytes
    address: int
    network: ipaddress.IPv4Network


@dataclass
class Plan:
    onlink: dict[str, tuple[Interface, list[int]]] = field(default_factory=dict)
    loopback: list[int] = field(default_factory=list)
    routed: list[int] = field(default_factory=list)
    own: set[int] = field(default_factory=set)  # our own addresses: skipped

    @property
    def total(self) -> int:
        return sum(len(a) for _, a in self.onlink.values()) + len(self.loopback) + len(
            self.routed)


def interfaces() -> list[Interface]:
    import psutil

    out: list[Interface] = []
    stats = psutil.net_if_stats()
    for name, addrs in psutil.net_if_addrs().items():
        st = stats.get(name)
        if st is None or not st.isup:
            continue
        mac = next((a.address for a in addrs if a.family == psutil.AF_LINK), "")
        for a in addrs:
            if a.family != socket.AF_INET or not a.netmask:
                continue
            ip = ipaddress.IPv4Address(a.address)
            net = ipaddress.IPv4Network(f"{a.address}/{a.netmask}", strict=False)
            if ip.is_loopback or not mac or mac == "00:00:00:00:00:00" or net.prefixlen >= 31:
                continue
            try:
                index = socket.if_nametoindex(name)
            except OSError:
                continue
            out.append(Interface(name, index, bytes.fromhex(mac.replace(":", "")), int(ip), net))
    return out


def plan(nets: list[ipaddress.IPv4Network], ifaces: list[Interface] | None = None) -> Plan:
    ifaces = interfaces() if ifaces is None else ifaces
    p = Plan(own={i.address for i in ifaces})
    loop_net = ipaddress.IPv4Network("127.0.0.0/8")
    for net in nets:
        addrs = hosts(net)
        if net.subnet_of(loop_net):
            if len(p.loopback) + len(addrs) > MAX_LOOPBACK_HOSTS:
                raise TargetError(f"{net}: loopback sweeps are limited to {MAX_LOOPBACK_HOSTS} "
                                  "addresses (every one costs a service probe); use a smaller "
                                  "range such as 127.77.1.0/24")
            p.loopback.extend(addrs)
            continue
        spans = [(i, int(i.network.network_address), int(i.network.broadcast_address))
                 for i in ifaces]
        for a in addrs:
            if a in p.own:
                continue
            for iface, lo, hi in spans:
                if lo < a < hi:
                    p.onlink.setdefault(iface.name, (iface, []))[1].append(a)
                    break
            else:
                p.routed.append(a)
    return p


def ip_str(a: int) -> str:
    return socket.inet_ntoa(a.to_bytes(4, "big"))
