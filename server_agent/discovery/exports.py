"""Exports derived from the inventory (design §3.4), rewritten whenever the inventory changes.

    export_ansible_inventory(devices, flypack, networks) -> YAML text   (jobs use this file)
    export_file_sd(devices, flypack) -> {"icmp": [...], "tcp": [...]}  (blackbox / VM targets)
    write_exports(state_dir, ...) -> paths under <state_dir>/collector/file_sd and
                                     <state_dir>/inventory/ansible.yml

The Ansible inventory has groups by role (``encoders``, ``decoders``, ``routers``,
``switches``, ``endpoints``, ``other`` as in :mod:`server_agent.jobs.inventory`) and by
network (``net_<name>``), and host vars
``ansible_host``, ``flypack_id``, ``flypack_role``, ``flypack_vendor``, ``flypack_model``,
``flypack_mac``, ``flypack_network`` plus a rule's ``vars``. sysName and friends come from
the network and must never be templated: ``{`` and ``}`` in values become ``(`` and ``)``, so
no value can hold a Jinja2 marker and the file stays plain YAML (``yaml.safe_load`` reads it;
an ``!unsafe`` tag would not load there). Only devices present in the last sweep are exported.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Any

ROLE_GROUPS = {"encoder": "encoders", "decoder": "decoders", "router": "routers",
               "switch": "switches", "endpoint": "endpoints", "unknown": "other"}
INVENTORY_DIR = "inventory"
ANSIBLE_FILE = "ansible.yml"
FILE_SD_DIR = "file_sd"
VAR_PREFIX = "flypack" + "_"  # host vars flypack_id, ... (not metric names)


def _group(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", text.lower()).strip("_") or "net"


def _q(value: object) -> str:
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(str(value).replace("{", "(").replace("}", ")"))


def host_names(devices: list[dict[str, Any]]) -> dict[str, str]:
    """id -> a unique inventory host name (the device name; the id is appended on a clash)."""
    counts: dict[str, int] = {}
    for d in devices:
        counts[d["name"]] = counts.get(d["name"], 0) + 1
    out = {}
    for d in devices:
        base = re.sub(r"[^A-Za-z0-9_.-]", "-", d["name"]) or d["id"]
        out[d["id"]] = base if counts[d["name"]] == 1 else f"{base}-{d['id']}"
    return out


def network_group(address: str, networks: dict[str, str], fallback: str) -> str:
    ip = ipaddress.ip_address(address)
    for name, cidr in networks.items():
        if ip in ipaddress.ip_network(cidr):
            return "net_" + _group(name)
    return "net_" + _group(fallback or address)


def export_ansible_inventory(devices: list[dict[str, Any]], flypack: str,
                             networks: dict[str, str] | None = None) -> str:
    """The Ansible YAML inventory of the present discovered devices (``ansible-inventory``
    parses it). ``devices`` are :meth:`Inventory.devices` rows; ``networks`` maps the
    configured network names to CIDRs (``[[networks]]``)."""
    networks = networks or {}
    present = [d for d in devices if d["present"]]
    names = host_names(present)
    roles: dict[str, list[str]] = {g: [] for g in ROLE_GROUPS.values()}
    nets: dict[str, list[str]] = {}
    lines = ["# Written by flypack-agent from its discovery inventory; edits are overwritten.",
             "all:", "  vars:", f"    flypack: {_q(flypack)}", "  hosts:"]
    if not present:
        lines[-1] = "  hosts: {}"
    for d in present:
        host = names[d["id"]]
        roles[ROLE_GROUPS[d["effective_role"]]].append(host)
        nets.setdefault(network_group(d["address"], networks, d["network"]), []).append(host)
        hv: dict[str, object] = {"ansible_host": d["address"]}
        hv.update({f"{VAR_PREFIX}{k}": v for k, v in (
            ("id", d["id"]), ("role", d["effective_role"]), ("vendor", d["vendor"]),
            ("model", d["model"]), ("mac", d["mac"] or ""), ("network", d["network"]))})
        for k, v in d["vars"].items():
            hv.setdefault(k, v)
        lines.append(f"    {host}:")
        lines += [f"      {k}: {_q(v)}" for k, v in hv.items()]
    lines.append("  children:")
    for group, members in [*roles.items(), *sorted(nets.items())]:
        if not members:
            lines.append(f"    {group}: {{}}")
            continue
        lines += [f"    {group}:", "      hosts:"] + [f"        {h}: {{}}" for h in members]
    return "\n".join(lines) + "\n"


def export_file_sd(devices: list[dict[str, Any]], flypack: str) -> dict[str, list[dict[str,
                                                                                        Any]]]:
    """file_sd target groups: ``icmp`` (address) and ``tcp`` (address:first open port)."""
    out: dict[str, list[dict[str, Any]]] = {"icmp": [], "tcp": []}
    present = [d for d in devices if d["present"]]
    names = host_names(present)
    for d in present:
        labels = {"flypack": flypack, "device": names[d["id"]], "device_id": d["id"],
                  "role": d["effective_role"]}
        via = d["facts"].get("via", [])
        if "arp" in via or "icmp" in via:
            out["icmp"].append({"targets": [d["address"]], "labels": labels})
        ports = d["facts"].get("open_ports") or []
        if ports:
            out["tcp"].append({"targets": [f"{d['address']}:{ports[0]}"], "labels": labels})
    return out


def _atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_exports(state_dir: Path, devices: list[dict[str, Any]], flypack: str,
                  networks: dict[str, str] | None = None) -> list[Path]:
    state_dir = state_dir.resolve()
    ansible = state_dir / INVENTORY_DIR / ANSIBLE_FILE
    _atomic(ansible, export_ansible_inventory(devices, flypack, networks))
    paths = [ansible]
    for kind, groups in export_file_sd(devices, flypack).items():
        p = state_dir / "collector" / FILE_SD_DIR / f"discovered-{kind}.json"
        _atomic(p, json.dumps(groups, indent=1) + "\n")
        paths.append(p)
    return paths
