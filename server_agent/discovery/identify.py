"""Identification of live hosts: MAC vendor (IEEE OUI via netaddr), SNMP, mDNS, HTTP.

    identify(hosts, plan_loopback, settings) -> fills Host.oui_vendor/.snmp/.mdns/.http

Loopback addresses all "answer" (design §5), so there SNMP itself is the liveness test: an
address with neither an open port nor an SNMP answer is dropped. On loopback, SNMP also asks
the simulator's documented port (``[sim].snmp_port``'s default, 1161: a simulator run by a
normal user cannot bind 161) beside ``snmp_port``, so that a sweep of the demo's segment
identifies its devices without the user knowing that port (docs/discovery.md).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from server_agent.config import SimSection
from server_agent.discovery.http_id import HTTP_PORTS, identify_http
from server_agent.discovery.model import Host
from server_agent.discovery.pacing import Pacer
from server_agent.discovery.snmp import SnmpIdentifier, SnmpV3User

log = logging.getLogger("flypack.discovery.identify")
SIM_SNMP_PORT: int = SimSection.model_fields["snmp_port"].default


@dataclass
class IdentifySettings:
    snmp: bool = True
    snmp_community: str = "public"
    snmp_port: int = 161
    # asked beside snmp_port on loopback addresses only (the simulated segment)
    snmp_loopback_ports: tuple[int, ...] = (SIM_SNMP_PORT,)
    snmp_timeout_s: float = 1.0
    snmp_retries: int = 0
    snmp_versions: tuple[str, ...] = ("2c",)
    snmp_v3: SnmpV3User | None = None
    mdns: bool = True
    mdns_wait_s: float = 2.0
    http: bool = True
    concurrency: int = 128
    rate_pps: float = 2000.0


@functools.lru_cache(maxsize=4096)
def oui_vendor(mac: str) -> str:
    """The IEEE registrant of a MAC's OUI ('' when unknown or locally administered)."""
    from netaddr import EUI, AddrFormatError, NotRegisteredError

    try:
        eui = EUI(mac)
        if int(eui) >> 40 & 0x02:  # locally administered: no OUI
            return ""
        return str(eui.oui.registration().org).strip()
    except (AddrFormatError, NotRegisteredError, ValueError, IndexError):
        return ""


async def _bounded(items: list[str], fn: Callable[[str], object], limit: int,
                   pacer: Pacer) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(item: str) -> None:
        async with sem:
            await pacer.grant()
            try:
                await fn(item)  # type: ignore[misc]
            except OSError as exc:  # unreachable and friends: expected on a live network
                log.debug("identifying %s failed: %s", item, exc)
            except Exception:  # one odd device must not end the run, but say so
                log.warning("identifying %s failed", item, exc_info=True)

    await asyncio.gather(*(one(i) for i in items))


async def identify(hosts: dict[str, Host], loopback: list[str], s: IdentifySettings,
                   mdns_interfaces: list[str], label: Callable[[str], str],
                   deadline_s: float = 120.0, snmp_failures: dict[str, str] | None = None) -> None:
    """Fills ``hosts``; addresses whose SNMP agent refused us (SNMPv3 user or keys) go into
    ``snmp_failures`` with the reason."""
    pacer = Pacer(s.rate_pps)
    for h in hosts.values():
        if h.mac:
            h.oui_vendor = oui_vendor(h.mac)
    snmp = SnmpIdentifier(s.snmp_community, s.snmp_port, s.snmp_timeout_s, s.snmp_retries,
                          s.snmp_versions, s.snmp_v3, loopback_ports=s.snmp_loopback_ports)

    async def do_snmp(addr: str) -> None:
        info = await snmp.identify(addr)
        if info is not None:
            h = hosts.get(addr) or hosts.setdefault(addr, Host(address=addr, network=label(addr)))
            h.snmp = info
            h.via.add("snmp")

    async def do_http(addr: str) -> None:
        h = hosts[addr]
        for port in [p for p in HTTP_PORTS if p in h.open_ports]:
            info = await identify_http(addr, port)
            if info is not None:
                h.http = info
                return

    async def do_mdns() -> None:
        from server_agent.discovery.mdns import browse

        for addr, services in (await browse(mdns_interfaces, s.mdns_wait_s)).items():
            if label(addr) == "":
                continue  # announced from outside the swept ranges
            h = hosts.get(addr) or hosts.setdefault(addr, Host(address=addr, network=label(addr)))
            h.mdns = services
            h.via.add("mdns")

    jobs = []
    if s.snmp:
        targets = sorted(set(hosts) | set(loopback))
        jobs.append(_bounded(targets, do_snmp, s.concurrency, pacer))
    if s.http:
        jobs.append(_bounded([a for a, h in hosts.items() if h.open_ports], do_http,
                             s.concurrency, pacer))
    if s.mdns and mdns_interfaces:
        jobs.append(do_mdns())
    try:
        await asyncio.wait_for(asyncio.gather(*jobs), deadline_s)
    except TimeoutError:
        log.warning("identification stopped after %.0f s; results are partial", deadline_s)
    for addr, reason in sorted(snmp.failures.items()):
        log.warning("SNMP on %s: %s", addr, reason)
    if snmp_failures is not None:
        snmp_failures.update(snmp.failures)
