"""``flypack-agent discover CIDR [CIDR ...]``: a one-off sweep from the shell.

Without ``--config`` it only prints what it found; with ``--config`` it also merges the result
into that agent's inventory (events, overrides kept) and rewrites the exports. Bad CIDRs, a too
large range without ``--yes``, missing privileges and a bad rules file end with one line on
stderr and exit 2 (the CLI's :data:`EXIT_USAGE`).

SNMP port: 161, and on loopback addresses (the simulated segment of ``flypack-agent demo``) also
the simulator's documented port 1161; with ``--config`` of an agent whose ``[sim]`` is enabled,
its ``[sim].snmp_port``; ``--snmp-port N`` asks N alone.

SNMPv3: ``--snmp-v3-user U`` (plus ``--snmp-v3-auth-protocol``/``--snmp-v3-priv-protocol``);
the keys never go on the command line: ``--snmp-v3-keys-stdin`` reads the auth key and the
priv key as the first two lines of stdin, else ``FLYPACK_SNMP_V3_AUTH_KEY`` /
``FLYPACK_SNMP_V3_PRIV_KEY``, else (with ``--config``) the agent's credential store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from server_agent.config import AgentConfig, load_config
from server_agent.discovery.engine import Outcome, Progress, run_discovery
from server_agent.discovery.errors import SnmpConfigError
from server_agent.discovery.identify import SIM_SNMP_PORT
from server_agent.discovery.rules import load_rules
from server_agent.discovery.settings import engine_settings, v3_user
from server_agent.discovery.snmp import AUTH_PROTOCOLS, PRIV_PROTOCOLS, SnmpV3User

AUTH_KEY_ENV = "FLYPACK_SNMP_V3_AUTH_KEY"
PRIV_KEY_ENV = "FLYPACK_SNMP_V3_PRIV_KEY"
VERSION_CHOICES = ("2c", "3", "2c,3", "3,2c")
COLUMNS = (("ADDRESS", 16), ("MAC", 18), ("ROLE", 9), ("VENDOR", 18), ("MODEL", 24),
           ("NAME", 20), ("FOUND BY", 0))


def _versions(text: str) -> str:
    """argparse type of --snmp-version (shown as 2c|3|2c,3|3,2c, not a list of choices)."""
    if text not in VERSION_CHOICES:
        raise argparse.ArgumentTypeError(f"{text!r}: use {', '.join(VERSION_CHOICES)}")
    return text


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a UDP port; use 1..65535")
    return int(text)


def _row(*cells: str) -> str:
    return " ".join(f"{c:<{w}}" if w else c for c, (_, w) in zip(cells, COLUMNS, strict=True))


def add_parsers(sub: Any) -> None:
    d = sub.add_parser(
        "discover", help="sweep networks once and list the devices found",
        description="Sweep networks once (ARP/ICMP/TCP), identify the hosts (SNMP, mDNS, HTTP, "
                    "MAC vendor) and classify them (docs/discovery.md).",
        epilog="exit status: 0 the sweep ran (whatever it found), 2 bad input (CIDR, range "
               "too large without --yes, missing privileges, SNMPv3 keys, rules file)")
    d.add_argument("cidrs", nargs="+", metavar="CIDR", help="e.g. 198.51.100.0/24")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.add_argument("--snmp-community", default=None, help="SNMP v2c community (default "
                   "'public' or the config's credential)")
    d.add_argument("--snmp-port", type=_port, default=None, metavar="PORT",
                   help=f"ask SNMP on this UDP port only (default [discovery].snmp_port = "
                   f"161, and on loopback addresses also the simulator's {SIM_SNMP_PORT}; with "
                   "--config of an agent with [sim] enabled, its [sim].snmp_port)")
    d.add_argument("--snmp-version", default=None, type=_versions,
                   metavar="|".join(VERSION_CHOICES),
                   help="versions tried in order (default [discovery].snmp_version; \"3\" "
                   "with --snmp-v3-user)")
    d.add_argument("--snmp-v3-user", default=None, metavar="USER",
                   help=f"SNMPv3 USM user; keys from --snmp-v3-keys-stdin, ${AUTH_KEY_ENV} / "
                   f"${PRIV_KEY_ENV} or the config's credential store, never from arguments")
    d.add_argument("--snmp-v3-auth-protocol", default=None, choices=AUTH_PROTOCOLS,
                   help="SNMPv3 authentication (default [discovery].snmp_v3_auth_protocol = "
                   "SHA)")
    d.add_argument("--snmp-v3-priv-protocol", default=None, choices=PRIV_PROTOCOLS,
                   help="SNMPv3 privacy (default [discovery].snmp_v3_priv_protocol = AES)")
    d.add_argument("--snmp-v3-keys-stdin", action="store_true",
                   help="read the SNMPv3 auth key, then the priv key, one per line from stdin")
    d.add_argument("--rate", type=float, default=None, metavar="PPS",
                   help="packets per second (default [discovery].rate_pps = 2000)")
    d.add_argument("--yes", action="store_true", help="allow ranges above the size limit")
    d.add_argument("--config", default=None, help="agent TOML: also update its inventory")
    d.add_argument("--no-mdns", action="store_true", help="do not browse mDNS/DNS-SD")
    d.add_argument("--sweep-only", action="store_true",
                   help="liveness only (ARP/ICMP): no TCP ports, SNMP, mDNS or HTTP")
    d.set_defaults(func=cmd_discover)


def _host_json(out: Outcome, address: str) -> dict[str, Any]:
    h, v = out.hosts[address], out.verdicts[address]
    return {"address": address, "network": h.network, "mac": h.mac,
            "oui_vendor": h.oui_vendor, "found_by": sorted(h.via),
            "rtt_ms": None if h.rtt_s is None else round(h.rtt_s * 1000, 3),
            "open_ports": h.open_ports, "role": v.role.value, "vendor": v.vendor,
            "model": v.model, "rule": v.rule, "evidence": v.evidence,
            "snmp": asdict(h.snmp) if h.snmp else None, "mdns": [asdict(m) for m in h.mdns],
            "http": asdict(h.http) if h.http else None}


def cmd_discover(args: argparse.Namespace) -> int:
    from server_agent.cli import CliError

    cfg = load_config(Path(args.config)) if args.config else AgentConfig()
    d = cfg.discovery
    if args.snmp_port is not None:
        d = d.model_copy(update={"snmp_port": args.snmp_port})
    elif cfg.sim.enabled and cfg.sim.snmp and "snmp_port" not in d.model_fields_set:
        # as the agent does (discovery/setup.py): its own simulated segment answers there
        d = d.model_copy(update={"snmp_port": cfg.sim.snmp_port})
    if args.no_mdns:
        d = d.model_copy(update={"mdns": False})
    if args.sweep_only:
        d = d.model_copy(update={"mdns": False, "snmp": False, "http": False, "tcp_ports": []})
    if args.rate is not None and not 1 <= args.rate <= 100000:
        raise CliError(f"--rate {args.rate:g}: use 1..100000 packets per second")
    store_get = _store_reader(cfg) if args.config else (lambda _ref: None)
    community = args.snmp_community
    if community is None:
        community = store_get(d.snmp_community_ref) or "public"
    d = _v3_overrides(d, args)
    try:
        v3 = _v3_from_cli(d, args, store_get)
        settings = engine_settings(d, community, rate_pps=args.rate, allow_large=args.yes,
                                   v3=v3)
    except SnmpConfigError as exc:
        raise CliError(str(exc)) from None
    if args.snmp_port is not None:
        settings.identify.snmp_loopback_ports = ()  # the user named the port: ask only there
    rules = load_rules(d.rules_file)

    def progress(p: Progress) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{p.phase}: {p.done}/{p.total} addresses, {p.found} found   ",
                  end="", file=sys.stderr, flush=True)

    out = asyncio.run(run_discovery(args.cidrs, settings, rules, progress))
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    events: list[dict[str, Any]] = []
    if args.config:
        events = _merge(cfg, out)
    order = sorted(out.hosts, key=lambda a: tuple(int(x) for x in a.split(".")))
    if args.json:
        print(json.dumps({"networks": [str(n) for n in out.networks],
                          "duration_s": round(out.duration_s, 3),
                          "sweep_s": round(out.sweep_s, 3),
                          "hosts": [_host_json(out, a) for a in order],
                          "snmp_failures": out.snmp_failures,
                          "events": events}, indent=1))
        return 0
    for a, reason in sorted(out.snmp_failures.items()):
        print(f"snmp: {a}: {reason}", file=sys.stderr)
    if order:
        print(_row(*(title for title, _ in COLUMNS)))
    for a in order:
        h, v = out.hosts[a], out.verdicts[a]
        name = (h.snmp.sys_name if h.snmp else "") or (h.mdns[0].name if h.mdns else "")
        print(_row(a, h.mac or "-", v.role.value, v.vendor or "-", v.model or "-",
                   name or "-", ",".join(sorted(h.via))))
    for e in events:
        print(f"event: {e['kind']} {e['device']} {json.dumps(e['detail'])}")
    print(f"{len(out.hosts)} hosts in {', '.join(map(str, out.networks))} "
          f"({out.duration_s:.1f} s, sweep {out.sweep_s:.1f} s)")
    return 0


def _store_reader(cfg: AgentConfig) -> Any:
    from server_agent.auth.credentials import CredentialStore

    return CredentialStore(cfg.agent.state_dir / "credentials.json").get


def _v3_overrides(d: Any, args: argparse.Namespace) -> Any:
    update: dict[str, Any] = {}
    if args.snmp_v3_user is not None:
        update["snmp_v3_user"] = args.snmp_v3_user
    if args.snmp_v3_auth_protocol is not None:
        update["snmp_v3_auth_protocol"] = args.snmp_v3_auth_protocol
    if args.snmp_v3_priv_protocol is not None:
        update["snmp_v3_priv_protocol"] = args.snmp_v3_priv_protocol
    if args.snmp_version is not None:
        update["snmp_version"] = args.snmp_version.split(",")
    elif args.snmp_v3_user is not None:
        update["snmp_version"] = ["3"]
    return d.model_copy(update=update) if update else d


def _v3_from_cli(d: Any, args: argparse.Namespace,
                 store_get: Any) -> SnmpV3User | None:
    """The v3 user with keys from stdin, the environment or the credential store."""
    if "3" not in d.snmp_version or not d.snmp:
        return None
    if d.snmp_v3_user is None:
        raise SnmpConfigError("SNMP version 3 needs a user: pass --snmp-v3-user or set "
                              "[discovery].snmp_v3_user")
    if args.snmp_v3_keys_stdin:
        lines = sys.stdin.read(65536).splitlines()
        auth = lines[0] if lines else ""
        priv = lines[1] if len(lines) > 1 else ""
        return SnmpV3User(d.snmp_v3_user, d.snmp_v3_auth_protocol, auth,
                          d.snmp_v3_priv_protocol, priv)
    env_auth, env_priv = os.environ.get(AUTH_KEY_ENV), os.environ.get(PRIV_KEY_ENV)
    if env_auth is not None or env_priv is not None:
        return SnmpV3User(d.snmp_v3_user, d.snmp_v3_auth_protocol, env_auth or "",
                          d.snmp_v3_priv_protocol, env_priv or "")
    if not args.config:
        raise SnmpConfigError(
            f"SNMPv3 user {d.snmp_v3_user!r} needs its keys: pipe them with "
            f"--snmp-v3-keys-stdin (auth key, then priv key, one per line) or set "
            f"{AUTH_KEY_ENV} / {PRIV_KEY_ENV}")
    return v3_user(d, store_get)


def _merge(cfg: AgentConfig, out: Outcome) -> list[dict[str, Any]]:
    import time

    from server_agent.discovery.exports import write_exports
    from server_agent.discovery.inventory import Inventory
    from server_agent.store.db import Database

    db = Database(cfg.agent.state_dir / "agent.db")
    try:
        inv = Inventory(db, cfg.discovery.gone_after_sweeps)
        run_id = f"cli-{int(time.time())}"
        events = inv.merge(out.hosts, out.verdicts, out.networks, run_id)
        write_exports(cfg.agent.state_dir, inv.devices(), cfg.agent.flypack,
                      {n.name: n.cidr for n in cfg.networks})
        return events
    finally:
        db.close()
