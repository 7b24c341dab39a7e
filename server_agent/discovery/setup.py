"""Wires discovery into the agent's :class:`~server_agent.runtime.Services`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from server_agent.config import ConfigError
from server_agent.discovery.errors import RulesError
from server_agent.discovery.rules import load_rules
from server_agent.discovery.service import DiscoveryService
from server_agent.discovery.settings import v3_user

if TYPE_CHECKING:
    from server_agent.runtime import Services


def attach_discovery(svc: Services) -> DiscoveryService:
    cfg = svc.config
    if cfg.sim.enabled and cfg.sim.snmp and "snmp_port" not in cfg.discovery.model_fields_set:
        # the demo: sweeps of the simulated segment identify its devices by their SNMP
        cfg = cfg.model_copy(update={"discovery": cfg.discovery.model_copy(
            update={"snmp_port": cfg.sim.snmp_port})})
    try:
        rules = load_rules(cfg.discovery.rules_file)
    except RulesError as exc:  # a bad rules file stops the start like a bad config
        raise ConfigError(f"[discovery].rules_file: {exc}") from None
    ref = cfg.discovery.snmp_community_ref
    ds = DiscoveryService(cfg, svc.db, svc.bus, svc.devices, rules,
                          community=lambda: svc.credentials.get(ref) or "public",
                          v3=lambda: v3_user(cfg.discovery, svc.credentials.get))
    ds.refresh()  # known devices are probed from the start; exports follow the inventory
    svc.closers.append(ds.close)
    if cfg.discovery.interval_s is not None:
        svc.tasks["discovery"] = ds.periodic
    return ds
