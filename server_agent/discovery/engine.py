"""One discovery run from CIDRs to classified hosts, with progress; no storage.

    run_discovery(cidrs, settings, rules, on_progress) -> Outcome(hosts, verdicts, networks)

Phases: ``sweep`` (ARP / ICMP / TCP liveness, :mod:`.sweep`), ``identify`` (OUI, SNMP, mDNS,
HTTP, :mod:`.identify`), ``classify`` (:mod:`.rules`). ``on_progress`` gets a
:class:`Progress` at most every 0.25 s and once per phase change.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server_agent.discovery.errors import SweepTimeout
from server_agent.discovery.identify import IdentifySettings, identify
from server_agent.discovery.model import Host
from server_agent.discovery.rules import RuleSet, Verdict
from server_agent.discovery.sweep import SweepSettings, sweep
from server_agent.discovery.targets import (
    MAX_HOSTS_DEFAULT,
    Interface,
    ip_str,
    parse_cidrs,
    plan,
)


@dataclass
class Settings:
    sweep: SweepSettings = field(default_factory=SweepSettings)
    identify: IdentifySettings = field(default_factory=IdentifySettings)
    max_hosts: int = MAX_HOSTS_DEFAULT
    allow_large: bool = False


@dataclass
class Progress:
    phase: str = "queued"
    done: int = 0
    total: int = 0
    found: int = 0


@dataclass
class Outcome:
    networks: list[ipaddress.IPv4Network]
    hosts: dict[str, Host]
    verdicts: dict[str, Verdict]
    duration_s: float
    sweep_s: float
    snmp_failures: dict[str, str] = field(default_factory=dict)  # address -> why SNMP refused


def labeller(nets: list[ipaddress.IPv4Network]) -> Callable[[str], str]:
    spans = [(int(n.network_address), int(n.broadcast_address), str(n)) for n in nets]

    def label(address: str) -> str:
        a = int(ipaddress.IPv4Address(address))
        return next((s for lo, hi, s in spans if lo <= a <= hi), "")

    return label


async def run_discovery(cidrs: list[str], settings: Settings, rules: RuleSet,
                        on_progress: Callable[[Progress], None] = lambda p: None,
                        ifaces: list[Interface] | None = None) -> Outcome:
    t0 = time.monotonic()
    nets = parse_cidrs(cidrs, settings.max_hosts, settings.allow_large)
    p = plan(nets, ifaces)
    prog = Progress("sweep", 0, p.total, 0)
    last = [0.0]

    def step(n: int) -> None:
        prog.done = min(prog.total, prog.done + n)
        now = time.monotonic()
        if now - last[0] >= 0.25:
            last[0] = now
            on_progress(prog)

    on_progress(prog)
    label = labeller(nets)
    try:
        hosts = await sweep(p, settings.sweep, step, label)
    except TimeoutError:
        raise SweepTimeout(
            f"the sweep of {prog.total} addresses did not finish within "
            f"{settings.sweep.max_duration_s:g} s at {settings.sweep.rate_pps:g} packets/s; "
            "raise the rate or [discovery].max_duration_s, or sweep a smaller range") from None
    sweep_s = time.monotonic() - t0
    prog.phase, prog.done, prog.found = "identify", prog.total, len(hosts)
    on_progress(prog)
    mdns_ifaces = [ip_str(i.address) for i, _ in p.onlink.values()]
    snmp_failures: dict[str, str] = {}
    await identify(hosts, [ip_str(a) for a in p.loopback], settings.identify, mdns_ifaces, label,
                   deadline_s=max(10.0, settings.sweep.max_duration_s),
                   snmp_failures=snmp_failures)
    verdicts = {a: rules.classify(h.facts()) for a, h in hosts.items()}
    prog.phase, prog.found = "classify", len(hosts)
    on_progress(prog)
    return Outcome(nets, hosts, verdicts, time.monotonic() - t0, sweep_s, snmp_failures)
