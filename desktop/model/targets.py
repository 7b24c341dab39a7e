"""A job's target groups (no Qt): which inventory groups a playbook may run against, how many
of the agent's devices each holds, and the job body's ``limit`` from the operator's choice.

    groups = target_groups(playbook.targets, devices)  # [TargetGroup("encoders", 8), ...]
    limit, why = job_limit(groups, chosen)            # [] = every target group of the playbook

The agent's inventory (server_agent/jobs/inventory.py) puts each device in the group of its
role (encoders, decoders, routers, switches, endpoints, other) and the agent itself in
``agent``; further groups (e.g. ``servers``) come from an extra inventory file the desktop
cannot see, so their size is unknown (None), never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server_agent.contract import Device, DeviceRole

__all__ = ["ROLE_GROUPS", "TargetGroup", "job_limit", "target_groups"]

ROLE_GROUPS = {DeviceRole.encoder: "encoders", DeviceRole.decoder: "decoders",
               DeviceRole.router: "routers", DeviceRole.switch: "switches",
               DeviceRole.endpoint: "endpoints", DeviceRole.unknown: "other"}


@dataclass(frozen=True)
class TargetGroup:
    name: str
    hosts: int | None  # devices the agent lists in it; None: not known to the desktop

    @property
    def empty(self) -> bool:
        return self.hosts == 0

    def label(self) -> str:
        if self.name == "agent" and self.hosts is None:
            return "agent (itself)"
        return self.name if self.hosts is None else f"{self.name} · {self.hosts}"


def target_groups(targets: Sequence[str], devices: Iterable[Device] | None
                  ) -> list[TargetGroup]:
    """The playbook's groups with their sizes (``devices`` None: sizes unknown)."""
    counts: dict[str, int] | None = None
    if devices is not None:
        counts = dict.fromkeys(ROLE_GROUPS.values(), 0)
        for d in devices:
            group = ROLE_GROUPS.get(d.role, "other")
            counts[group] += 1
    out = []
    for name in targets:
        hosts = counts.get(name) if counts is not None else None
        out.append(TargetGroup(name, hosts))
    return out


def job_limit(groups: Sequence[TargetGroup], chosen: Iterable[str]) -> tuple[list[str], str]:
    """``limit`` for the job body: [] when every usable group is chosen (the playbook's own
    targets), else the chosen groups; an error text when nothing usable is chosen."""
    picked = set(chosen)
    usable = [g.name for g in groups if not g.empty]
    want = [name for name in usable if name in picked]
    if not want:
        if groups and not usable:
            return [], "no devices in this playbook's target groups; nothing was sent"
        return [], "pick at least one target group; nothing was sent"
    if len(want) == len(usable):  # empty groups add nothing: the playbook's own targets
        return [], ""
    return want, ""
