"""The simulated segment's devices: names, roles, addresses, vendor strings, streams.

A segment looks like the seed's Flypack-01 at small scale (``small``: 12 encoders, 2 decoders,
4 routers, 2 switches, 20 endpoints) or at full scale (``seed``: 50 encoders, 2 decoders,
20 routers, 2 switches, 100 endpoints). Addresses are on loopback, one third octet per role::

    base 127.77.0.0   encoders 127.77.1.N   decoders 127.77.2.N   routers 127.77.3.N
                      switches 127.77.4.N   endpoints 127.77.5.N  stream targets 127.77.200.N

Each stream has a path, in signal order: its encoder -> a switch -> a router -> its link
``link-NN`` -> the agent's analysis (``sim-enc-01``: enc-01, sw-01, rtr-01, link-01; streams
share switches and routers round robin). A fault on any of them (``down``, ``loss_ratio``)
hits the stream's datagrams, as it would on a real path; links are fault targets of their own.

Vendor and model strings are plausible broadcast kit, descriptive only; the sysObjectIDs use
the vendors' enterprise arcs for flavour and are not claimed to match real products.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from server_agent.config import DeviceSection, SimSection
from server_agent.contract import DeviceRole, HopStatus

ROLE_OCTET = {DeviceRole.encoder: 1, DeviceRole.decoder: 2, DeviceRole.router: 3,
              DeviceRole.switch: 4, DeviceRole.endpoint: 5}
STREAM_OCTET = 200
PREFIX = {DeviceRole.encoder: ("enc", 2), DeviceRole.decoder: ("dec", 2),
          DeviceRole.router: ("rtr", 2), DeviceRole.switch: ("sw", 2),
          DeviceRole.endpoint: ("ep", 3)}

SCALES: dict[str, dict[DeviceRole, int]] = {
    "small": {DeviceRole.encoder: 12, DeviceRole.decoder: 2, DeviceRole.router: 4,
              DeviceRole.switch: 2, DeviceRole.endpoint: 20},
    "seed": {DeviceRole.encoder: 50, DeviceRole.decoder: 2, DeviceRole.router: 20,
             DeviceRole.switch: 2, DeviceRole.endpoint: 100},
}


@dataclass(frozen=True, slots=True)
class Kind:
    vendor: str
    model: str
    sys_object_id: str
    firmware: str
    descr: str  # sysDescr; {fw} is replaced by the firmware


CATALOG: dict[DeviceRole, tuple[Kind, ...]] = {
    DeviceRole.encoder: (
        Kind("Haivision", "Makito X4 Video Encoder", "1.3.6.1.4.1.20308.1.14", "1.9.0-31",
             "Haivision Makito X4 H.264/HEVC video encoder, firmware {fw}"),
        Kind("Matrox", "Monarch EDGE Encoder", "1.3.6.1.4.1.5003.2.7", "2.04.01",
             "Matrox Monarch EDGE 4K/multi-HD remote production encoder, firmware {fw}"),
    ),
    DeviceRole.decoder: (
        Kind("Haivision", "Makito X4 Video Decoder", "1.3.6.1.4.1.20308.1.15", "1.9.0-31",
             "Haivision Makito X4 video decoder, firmware {fw}"),
    ),
    DeviceRole.router: (
        Kind("Cisco", "ASR 920-12CZ-A", "1.3.6.1.4.1.9.1.2278", "17.9.4a",
             "Cisco IOS XE Software, ASR920 Software (ppc_linux_iosd), Version {fw}"),
        Kind("Juniper", "ACX710", "1.3.6.1.4.1.2636.1.1.1.2.160", "22.4R3",
             "Juniper Networks, Inc. acx710 internet router, kernel JUNOS {fw}"),
    ),
    DeviceRole.switch: (
        Kind("Arista", "DCS-7020TR-48", "1.3.6.1.4.1.30065.1.3011.7020.3736.48", "4.31.2F",
             "Arista Networks EOS version {fw} running on an Arista DCS-7020TR-48"),
        Kind("Cisco", "Catalyst 9300-24UX", "1.3.6.1.4.1.9.1.2494", "17.12.3",
             "Cisco IOS Software [Dublin], Catalyst L3 Switch Software (CAT9K_IOSXE), "
             "Version {fw}"),
    ),
    DeviceRole.endpoint: (
        Kind("Panasonic", "AW-UE150 PTZ camera", "1.3.6.1.4.1.258.400.150", "4.30.00",
             "Panasonic AW-UE150 4K integrated PTZ camera, firmware {fw}"),
        Kind("Blackmagic Design", "HyperDeck Studio HD Pro", "1.3.6.1.4.1.42137.1.3", "8.3",
             "Blackmagic Design HyperDeck Studio HD Pro recorder, software {fw}"),
        Kind("Dell", "OptiPlex 7090 (graphics PC)", "1.3.6.1.4.1.8072.3.2.10", "6.1.0-18",
             "Linux gfx {fw}-amd64 #1 SMP Debian x86_64"),
        Kind("Riedel", "Bolero wireless intercom antenna", "1.3.6.1.4.1.24616.2.4", "2.6.1",
             "Riedel Bolero AN-2000 antenna, firmware {fw}"),
    ),
}


@dataclass(frozen=True, slots=True)
class SimStreamSpec:
    id: str
    title: str
    device: str
    address: str
    port: int
    via: tuple[str, ...] = ()  # switch, router: devices the stream passes on its way
    link: str | None = None  # the link towards the agent, a fault target of its own

    @property
    def url(self) -> str:
        return f"udp://@{self.address}:{self.port}"

    @property
    def carriers(self) -> tuple[str, ...]:
        """Everything whose fault hits the stream's datagrams, in signal order."""
        return (self.device, *self.via, *((self.link,) if self.link else ()))

    def path(self) -> list[HopStatus]:
        """The stream's path hops (states unknown until the agent judges them)."""
        hops = [HopStatus(name=d, kind="device", device=d) for d in (self.device, *self.via)]
        if self.link:
            hops.append(HopStatus(name=self.link, kind="link", leg=1))
        return [*hops, HopStatus(name="agent", kind="analysis", leg=1)]


@dataclass(frozen=True, slots=True)
class SimPorts:
    snmp: int | None
    echo: int
    tcp: int
    http: int


@dataclass(frozen=True, slots=True)
class SimDevice:
    name: str
    role: DeviceRole
    address: str
    kind: Kind
    location: str
    stream: SimStreamSpec | None = None

    @property
    def http(self) -> bool:
        return self.role in (DeviceRole.encoder, DeviceRole.decoder)

    @property
    def sys_descr(self) -> str:
        return self.kind.descr.format(fw=self.kind.firmware)


def resolve_ports(cfg: SimSection) -> SimPorts:
    echo = cfg.echo_port if cfg.echo_port is not None else (7 if os.geteuid() == 0 else 7007)
    return SimPorts(snmp=cfg.snmp_port if cfg.snmp else None, echo=echo, tcp=cfg.tcp_port,
                    http=cfg.http_port)


def _addr(base: str, octet: int, n: int) -> str:
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(base)) + octet * 256 + n))


def _nth(role: DeviceRole, i: int, counts: dict[DeviceRole, int]) -> tuple[str, ...]:
    """The device of ``role`` that stream ``i`` (1-based) passes: round robin."""
    prefix, width = PREFIX[role]
    n = counts[role]
    return (f"{prefix}-{(i - 1) % n + 1:0{width}d}",) if n else ()


def build_devices(cfg: SimSection) -> list[SimDevice]:
    counts = SCALES[cfg.scale]
    out: list[SimDevice] = []
    for role, count in counts.items():
        prefix, width = PREFIX[role]
        kinds = CATALOG[role]
        for i in range(1, count + 1):
            name = f"{prefix}-{i:0{width}d}"
            stream = None
            if role is DeviceRole.encoder and i <= cfg.streams:
                stream = SimStreamSpec(
                    id=f"sim-{name}", title=f"{name} program (simulated)", device=name,
                    address=_addr(cfg.base_address, STREAM_OCTET, i),
                    port=cfg.stream_port + i - 1, link=f"link-{i:02d}",
                    via=(*_nth(DeviceRole.switch, i, counts), *_nth(DeviceRole.router, i, counts)))
            out.append(SimDevice(
                name=name, role=role, address=_addr(cfg.base_address, ROLE_OCTET[role], i),
                kind=kinds[(i - 1) % len(kinds)],
                location=f"Flypack-01 rack {1 + (len(out) // 24)}, U{1 + len(out) % 24}",
                stream=stream))
    return out


def stream_links(devices: list[SimDevice]) -> list[str]:
    """The links of the streams' paths (fault targets beside the devices)."""
    return [d.stream.link for d in devices if d.stream and d.stream.link]


def device_section(dev: SimDevice, ports: SimPorts) -> DeviceSection:
    """The device as the agent's registry sees it, probed through its simulated services."""
    probes = ["icmp", f"udp:{ports.echo}", f"tcp:{ports.tcp}"]
    return DeviceSection(name=dev.name, address=dev.address, role=dev.role,
                         vendor=dev.kind.vendor, model=dev.kind.model, probes=probes)
