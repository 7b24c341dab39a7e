"""The Ansible inventory a job runs against: the agent's devices, grouped by role.

It is derived from the device registry, which holds the configured, simulated and discovered
devices (discovery puts each classified device there, with operator overrides applied), in
groups ``encoders``, ``decoders``, ``routers``, ``switches``, ``endpoints``, ``other``, and
``agent`` holding the agent itself; an extra YAML inventory (``[jobs] inventory``, e.g.
servers reached over SSH) is merged beside it. Only plain host and group names are accepted
in a job's ``limit``: no Ansible patterns (``!``, ``&``, ``*``, ``:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from server_agent.config import DeviceSection
from server_agent.contract import DeviceRole
from server_agent.jobs.errors import InvalidTargets, JobError

GROUPS = {DeviceRole.encoder: "encoders", DeviceRole.decoder: "decoders",
          DeviceRole.router: "routers", DeviceRole.switch: "switches",
          DeviceRole.endpoint: "endpoints", DeviceRole.unknown: "other"}
VAR = "flypack_"  # prefix of the agent's own playbook variables
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass
class Inventory:
    groups: dict[str, set[str]] = field(default_factory=dict)  # group -> hosts
    data: dict[str, Any] = field(default_factory=dict)  # the registry part, as YAML data
    extra: Path | None = None

    def resolve_limit(self, limit: list[str], allowed: list[str]) -> list[str]:
        """Check a job's limit against the playbook's allowed groups; return the hosts."""
        allowed_hosts = set().union(*(self.groups.get(g, set()) for g in allowed))
        if not limit:
            if not allowed_hosts:
                raise InvalidTargets(f"no hosts in the playbook's groups {allowed}")
            return sorted(allowed_hosts)
        hosts: set[str] = set()
        for name in limit:
            if not _PLAIN.match(name):
                raise InvalidTargets(f"limit: {name!r} is not a plain host or group name")
            if name in self.groups:
                if name not in allowed:
                    raise InvalidTargets(f"limit: group {name!r} is not among the playbook's "
                                         f"targets {allowed}")
                hosts |= self.groups[name]
            elif name in allowed_hosts:
                hosts.add(name)
            else:
                raise InvalidTargets(f"limit: {name!r} is not a host in the playbook's "
                                     f"groups {allowed}")
        return sorted(hosts)


def _read_extra(path: Path) -> dict[str, set[str]]:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise JobError(f"{path}: cannot read the inventory: {exc}",
                       "fix [jobs] inventory (a YAML inventory file)") from None
    groups: dict[str, set[str]] = {}

    def walk(name: str, node: Any) -> set[str]:
        hosts = set((node or {}).get("hosts") or {}) if isinstance(node, dict) else set()
        for child, sub in ((node or {}).get("children") or {}).items() if isinstance(
                node, dict) else ():
            hosts |= walk(str(child), sub)
        groups.setdefault(name, set()).update(str(h) for h in hosts)
        return hosts

    if isinstance(data, dict):
        for name, node in data.items():
            walk(str(name), node)
    return groups


def build_inventory(devices: list[DeviceSection], extra: Path | None,
                    http_port: int) -> Inventory:
    inv = Inventory(extra=extra)
    children: dict[str, dict[str, Any]] = {}
    for d in devices:
        group = GROUPS.get(d.role, "other")
        children.setdefault(group, {"hosts": {}})["hosts"][d.name] = {
            "ansible_host": d.address, f"{VAR}role": d.role.value}
        inv.groups.setdefault(group, set()).add(d.name)
    # the agent itself: self-checks and snapshots run here
    children["agent"] = {"hosts": {"self": {"ansible_host": "127.0.0.1"}}}
    inv.groups["agent"] = {"self"}
    inv.data = {"all": {"children": children, "vars": {f"{VAR}http_port": http_port}}}
    if extra is not None:
        for group, hosts in _read_extra(extra).items():
            inv.groups.setdefault(group, set()).update(hosts)
    inv.groups["all"] = set().union(*inv.groups.values()) if inv.groups else set()
    return inv
