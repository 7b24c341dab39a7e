"""Liveness: which addresses of a plan answer, by ARP (on-link), ICMP (routed) or TCP.

    sweep(plan, settings, progress) -> {address: Host}

Everything sent goes through one :class:`Pacer` (``rate_pps``) and the whole sweep is bounded
by ``max_duration_s``; cancelling the task stops it at the next packet. TCP connects to the
broadcast ports run on every live host, on every routed address of small routed ranges
(``tcp_sweep_max``; finds hosts that drop ICMP) and on every loopback address (where ICMP
says nothing: design §5).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server_agent.discovery.arp import ArpSweep
from server_agent.discovery.errors import PrivilegeError
from server_agent.discovery.model import Host
from server_agent.discovery.pacing import Pacer
from server_agent.discovery.targets import Plan, ip_str
from server_agent.probes.base import ProbeUnavailable

DEFAULT_TCP_PORTS = (22, 80, 443, 554, 1935, 8080)


@dataclass
class SweepSettings:
    rate_pps: float = 2000.0
    wait_s: float = 1.0
    retries: int = 0
    max_duration_s: float = 300.0
    tcp_ports: tuple[int, ...] = DEFAULT_TCP_PORTS
    tcp_timeout_s: float = 1.0
    tcp_sweep_max: int = 1024
    tcp_concurrency: int = 256
    networks: dict[str, str] = field(default_factory=dict)  # ip -> network label


Progress = Callable[[int], None]


async def _icmp_sweep(addresses: list[int], pacer: Pacer, wait_s: float,
                      progress: Progress) -> dict[int, float]:
    from server_agent.probes.icmp import IcmpProber

    prober = IcmpProber()
    try:
        prober.open()
    except ProbeUnavailable as exc:
        raise PrivilegeError(f"an ICMP sweep of routed subnets needs root or CAP_NET_RAW: {exc}"
                             ) from None
    found: dict[int, float] = {}
    try:
        for a in addresses:
            await pacer.grant()

            def done(rtt: float | None, _reason: str | None, a: int = a) -> None:
                if rtt is not None:
                    found[a] = rtt

            prober.probe(ip_str(a), 0, wait_s, done)
            progress(1)
        await asyncio.sleep(wait_s + 0.05)
    finally:
        prober.close()
    return found


async def _tcp_probe(address: str, port: int, limit_s: float) -> float | None:
    t0 = time.perf_counter()
    try:
        _r, w = await asyncio.wait_for(asyncio.open_connection(address, port), limit_s)
    except (OSError, TimeoutError):
        return None
    rtt = time.perf_counter() - t0
    w.close()
    try:
        await asyncio.wait_for(w.wait_closed(), 0.5)
    except (OSError, TimeoutError):
        pass
    return rtt


async def tcp_scan(pairs: list[tuple[str, int]], pacer: Pacer, s: SweepSettings,
                   progress: Progress = lambda n: None) -> dict[str, dict[int, float]]:
    """Connect to every (address, port); return the open ones with their connect time."""
    out: dict[str, dict[int, float]] = {}
    sem = asyncio.Semaphore(s.tcp_concurrency)

    async def one(addr: str, port: int) -> None:
        try:
            rtt = await _tcp_probe(addr, port, s.tcp_timeout_s)
        finally:
            sem.release()
            progress(1)
        if rtt is not None:
            out.setdefault(addr, {})[port] = rtt

    tasks: set[asyncio.Task[None]] = set()
    try:
        for addr, port in pairs:
            await sem.acquire()
            try:
                await pacer.grant()
            except BaseException:
                sem.release()
                raise
            t = asyncio.create_task(one(addr, port))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
    return out


async def sweep(plan: Plan, s: SweepSettings, progress: Progress = lambda n: None,
                label: Callable[[str], str] = lambda a: "") -> dict[str, Host]:
    pacer = Pacer(s.rate_pps, deadline=time.monotonic() + s.max_duration_s)
    hosts: dict[str, Host] = {}

    def host(a: str) -> Host:
        h = hosts.get(a)
        if h is None:
            h = hosts[a] = Host(address=a, network=label(a))
        return h

    sweeps = [ArpSweep(iface) for iface, _ in plan.onlink.values()]
    try:
        for arp in sweeps:  # open all first: a privilege problem shows before any traffic
            arp.open()
        arp_runs = [arp.run(addrs, pacer, s.wait_s, s.retries, progress)
                    for arp, (_, addrs) in zip(sweeps, plan.onlink.values(), strict=True)]
        results = await asyncio.gather(*arp_runs)
    finally:
        for arp in sweeps:
            arp.close()
    for found in results:
        for a, (mac, rtt) in found.items():
            h = host(ip_str(a))
            h.mac, h.rtt_s = mac, rtt
            h.via.add("arp")
    if plan.routed:
        for a, rtt in (await _icmp_sweep(plan.routed, pacer, s.wait_s, progress)).items():
            h = host(ip_str(a))
            h.rtt_s = rtt
            h.via.add("icmp")
    # TCP: every live host; every routed address of small ranges; every loopback address
    pairs_hosts = set(hosts)
    if len(plan.routed) <= s.tcp_sweep_max:
        pairs_hosts.update(ip_str(a) for a in plan.routed)
    pairs_hosts.update(ip_str(a) for a in plan.loopback)
    pairs = [(a, p) for a in sorted(pairs_hosts) for p in s.tcp_ports]
    for addr, ports in (await tcp_scan(pairs, pacer, s)).items():
        h = host(addr)
        h.open_ports = sorted(ports)
        h.via.add("tcp")
        if h.rtt_s is None:
            h.rtt_s = min(ports.values())
    progress(len(plan.loopback))
    return hosts
