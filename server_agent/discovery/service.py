"""Discovery inside the agent: runs (one at a time), inventory, exports, probe targets.

    DiscoveryService.start(request, user) -> DiscoveryRun   (TargetError, RunError)
    .get(run_id) / .cancel(run_id)
    .patch(device_id, DevicePatch) -> Device                (OverrideError, NameTakenError)
    .refresh()   inventory -> registry (probe targets) + exports (Ansible, file_sd)

Progress goes onto the live bus as ``discovery.progress`` events (at most 4 per second),
inventory changes as ``discovery.device`` events and the end as ``discovery.finished``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from server_agent.config import AgentConfig
from server_agent.contract import (
    Device,
    DevicePatch,
    DiscoveryEvent,
    DiscoveryRun,
    DiscoveryRunRequest,
)
from server_agent.discovery import metric_defs as m
from server_agent.discovery.engine import Progress, run_discovery
from server_agent.discovery.errors import DiscoveryError, OverrideError, RunError, TargetError
from server_agent.discovery.exports import write_exports
from server_agent.discovery.inventory import Inventory
from server_agent.discovery.overrides import patch_changes
from server_agent.discovery.registry import DeviceRegistry
from server_agent.discovery.rules import RuleSet
from server_agent.discovery.settings import engine_settings
from server_agent.discovery.snmp import SnmpV3User
from server_agent.discovery.targets import parse_cidrs
from server_agent.discovery.views import device_view, target_for
from server_agent.live.bus import LiveBus, sample
from server_agent.store.db import Database

log = logging.getLogger("flypack.discovery")
KEEP_RUNS = 50


class DiscoveryService:
    def __init__(self, config: AgentConfig, db: Database, bus: LiveBus,
                 registry: DeviceRegistry, rules: RuleSet,
                 community: Callable[[], str] = lambda: "public",
                 v3: Callable[[], SnmpV3User | None] = lambda: None) -> None:
        self.config = config
        self.d = config.discovery
        self.bus = bus
        self.registry = registry
        self.rules = rules
        self.community = community
        self.v3 = v3  # reads the credential store per run (raises SnmpConfigError)
        self.inventory = Inventory(db, self.d.gone_after_sweeps)
        self.db = db
        self.runs: dict[str, DiscoveryRun] = {}
        self._task: asyncio.Task[None] | None = None
        self._counts = {"runs": 0, "events": 0}
        self.flypack = config.agent.flypack
        self.networks = {n.name: n.cidr for n in config.networks}

    # --- runs -------------------------------------------------------------------------------

    def start(self, req: DiscoveryRunRequest, user: str = "") -> DiscoveryRun:
        cidrs = req.networks or list(self.networks.values())
        if not cidrs:
            raise TargetError("no networks given and none configured; pass \"networks\": "
                           "[\"198.51.100.0/24\"] or add [[networks]] to the config")
        nets = parse_cidrs(cidrs, self.d.max_hosts, req.confirm_large)  # TargetError
        if self._task is not None and not self._task.done():
            running = next(r.id for r in self.runs.values() if r.state == "running")
            raise RunError(f"discovery run {running} is still running; wait for it or cancel "
                           f"it (POST /api/v1/discovery/runs/{running}/cancel)")
        run = DiscoveryRun(id=f"r-{int(time.time())}-{os.urandom(3).hex()}", state="running",
                           networks=[str(n) for n in nets], started=time.time(), phase="queued")
        self.runs[run.id] = run
        for old in list(self.runs)[:-KEEP_RUNS]:
            del self.runs[old]
        self.db.execute("INSERT INTO discovery_runs(id, state, started, request) "
                        "VALUES(?, ?, ?, ?)", (run.id, run.state, run.started,
                                               json.dumps({**req.model_dump(), "user": user})))
        self._task = asyncio.get_running_loop().create_task(
            self._run(run, req.rate_pps, req.confirm_large), name=f"discovery {run.id}")
        return run

    def get(self, run_id: str) -> DiscoveryRun:
        run = self.runs.get(run_id)
        if run is not None:
            return run
        row = self.db.one("SELECT result FROM discovery_runs WHERE id = ?", (run_id,))
        if row is None or row["result"] == "{}":
            raise RunError(f"no discovery run {run_id!r}")
        return DiscoveryRun.model_validate_json(row["result"])

    def cancel(self, run_id: str) -> DiscoveryRun:
        run = self.get(run_id)
        if run.state == "running" and self._task is not None:
            self._task.cancel()
        return run

    def _progress(self, run: DiscoveryRun) -> Callable[[Progress], None]:
        def on(p: Progress) -> None:
            run.phase, run.done, run.total, run.found = p.phase, p.done, p.total, p.found
            self.bus.publish_event("discovery.progress", {
                "run": run.id, "phase": p.phase, "done": p.done, "total": p.total,
                "found": p.found})
        return on

    async def _run(self, run: DiscoveryRun, rate: float | None, large: bool) -> None:
        try:
            settings = engine_settings(self.d, self.community(), rate_pps=rate,
                                       allow_large=large, v3=self.v3())
            out = await run_discovery(run.networks, settings, self.rules, self._progress(run))
            events = self.inventory.merge(out.hosts, out.verdicts, out.networks, run.id)
            run.devices = sorted({self._id_of(a) for a in out.hosts} - {""})
            run.events = [DiscoveryEvent(t=time.time(), **e) for e in events]
            run.state, run.phase, run.found = "done", "done", len(out.hosts)
            for e in events:
                self.bus.publish_event("discovery.device", {"run": run.id, **e})
            self._counts["events"] += len(events)
            self.refresh()
        except asyncio.CancelledError:
            run.state, run.error = "cancelled", "cancelled by a user or by shutdown"
        except DiscoveryError as exc:
            run.state, run.error = "failed", str(exc)
        except Exception as exc:  # the agent keeps running; the run says what happened
            log.exception("discovery run %s failed", run.id)
            run.state, run.error = "failed", f"unexpected error: {exc}; see the agent log"
        finally:
            run.finished = time.time()
            run.duration_s = run.finished - run.started
            self._counts["runs"] += 1
            self._publish_metrics(run)
            self.db.execute("UPDATE discovery_runs SET state = ?, finished = ?, result = ? "
                            "WHERE id = ?", (run.state, run.finished, run.model_dump_json(),
                                             run.id))
            self.bus.publish_event("discovery.finished", {
                "run": run.id, "state": run.state, "found": run.found,
                "events": len(run.events), "error": run.error})

    def _id_of(self, address: str) -> str:
        row = self.db.one("SELECT id FROM discovered_devices WHERE address = ? AND present = 1",
                          (address,))
        return str(row["id"]) if row else ""

    def _publish_metrics(self, run: DiscoveryRun) -> None:
        fp = {"flypack": self.flypack}
        samples = [sample(m.RUNS.name, fp, self._counts["runs"]),
                   sample(m.EVENTS.name, fp, self._counts["events"]),
                   sample(m.HOSTS_FOUND.name, fp, run.found),
                   sample(m.RUN_DURATION.name, fp, run.duration_s)]
        roles: dict[str, int] = {r: 0 for r in ("encoder", "decoder", "router", "switch",
                                                "endpoint", "unknown")}
        for d in self.inventory.devices():
            if d["present"]:
                roles[d["effective_role"]] += 1
        samples += [sample(m.DEVICES.name, {**fp, "role": r}, n) for r, n in roles.items()]
        self.bus.publish(samples)

    # --- inventory -> registry + exports --------------------------------------------------

    def refresh(self) -> list[Any]:
        rows = self.inventory.devices()
        if self.d.probe_discovered:
            self.registry.set_discovered(
                (target_for(r), device_view(r)) for r in rows if r["present"])
        else:
            self.registry.set_discovered([])
        try:
            return write_exports(self.config.agent.state_dir, rows, self.flypack, self.networks)
        except OSError as exc:
            log.error("cannot write the discovery exports: %s", exc)
            return []

    def device(self, device_id: str) -> Device | None:
        row = self.inventory.get(device_id)
        return device_view(row) if row else None

    def patch(self, device_id: str, p: DevicePatch) -> Device:
        """Overrides of a discovered device, or of a configured / simulated one (those keep
        their configured fields; name, role and notes are stored beside them)."""
        changes = patch_changes(p)
        if self.inventory.get(device_id) is None:
            if self.registry.get(device_id) is None:
                raise OverrideError(f"no device {device_id!r}")
            dev = self.registry.set_overrides(device_id, changes)
            self.bus.publish_event("discovery.device", {"device": device_id,
                                                        "kind": "override", "detail": changes})
            return dev
        row = self.inventory.set_overrides(device_id, changes)
        self.refresh()
        self.bus.publish_event("discovery.device", {"device": device_id, "kind": "override",
                                                    "detail": changes})
        assert row is not None
        return self.registry.get(device_id) or device_view(row)

    async def close(self) -> None:
        """Cancel a running sweep (agent shutdown); its sockets close in their finally."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    async def periodic(self) -> None:
        """``[discovery].interval_s``: sweep the configured networks this often."""
        assert self.d.interval_s is not None
        while True:
            await asyncio.sleep(self.d.interval_s)
            try:
                self.start(DiscoveryRunRequest())
            except DiscoveryError as exc:
                log.warning("scheduled discovery skipped: %s", exc)
