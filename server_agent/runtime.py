"""Builds the agent's services from its configuration and runs their background tasks.

    AgentConfig ──build_services()──► Services (db, auth, bus, devices, alarms, probes, ...)
                                       └── Runtime.start()/stop(): background collectors

Routers receive the :class:`Services` container through ``app.state`` and never build anything
themselves, so every service can be tested without HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server_agent.alarms.engine import AlarmEngine
from server_agent.auth.credentials import CredentialStore
from server_agent.auth.service import AuthService
from server_agent.config import AgentConfig
from server_agent.contract import Stream
from server_agent.discovery.overrides import DeviceOverrides
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus
from server_agent.metrics.access import ScrapeGuard
from server_agent.metrics.catalog import load_all
from server_agent.metrics.exposition import Exposition, own_metrics_task
from server_agent.metrics.history import HistoryService
from server_agent.metrics.scrape_config import write_scrape_config
from server_agent.probes.service import ProbeService
from server_agent.store.db import Database
from server_agent.video.streams.service import StreamService

if TYPE_CHECKING:
    from server_agent.discovery.service import DiscoveryService
    from server_agent.jobs.service import JobService
    from server_agent.sim.control import SimControl

log = logging.getLogger("flypack.runtime")

JWT_SECRET_NAME = "jwt-signing-key"


@dataclass
class Services:
    config: AgentConfig
    db: Database
    credentials: CredentialStore
    auth: AuthService
    bus: LiveBus
    devices: DeviceRegistry
    exposition: Exposition  # GET /metrics
    scrape_guard: ScrapeGuard  # who may read /metrics
    history: HistoryService  # GET /api/v1/history
    streams: list[Stream] = field(default_factory=list)
    alarms: AlarmEngine | None = None
    probes: ProbeService | None = None
    stream_service: StreamService | None = None  # live stream analysis
    started: float = field(default_factory=time.time)
    sim: SimControl | None = None  # the simulated segment (in process, or the demo's own)
    discovery: DiscoveryService | None = None  # sweeps, inventory, exports (issue 5)
    jobs: JobService | None = None  # playbooks through the agent, when [jobs] is enabled
    # background coroutines started by Runtime (probes, sim, ...): name -> factory
    tasks: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    # called once on shutdown, in reverse order of registration
    closers: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)


def open_state(config: AgentConfig) -> tuple[Database, CredentialStore, AuthService]:
    """The persistent part (database, credentials, users): also used by the CLI."""
    state = config.agent.state_dir
    state.mkdir(parents=True, exist_ok=True)
    db = Database(state / "agent.db")
    creds = CredentialStore(state / "credentials.json")
    auth = AuthService(
        db,
        creds.get_or_create(JWT_SECRET_NAME, 48),
        access_ttl_s=config.agent.access_token_ttl_s,
        refresh_ttl_s=config.agent.refresh_token_ttl_s,
    )
    return db, creds, auth


def _not_a_counter(series: str) -> bool:
    metric = load_all().get(series)
    return metric is None or metric.type != "counter"


def build_services(config: AgentConfig, sim: SimControl | None = None) -> Services:
    """``sim``: a segment running elsewhere (the demo's simulator process) to register instead
    of starting one in this process for ``[sim] enabled``."""
    db, creds, auth = open_state(config)
    bus = LiveBus(keeps_aggregates=_not_a_counter)
    flypack = config.agent.flypack
    svc = Services(
        config=config,
        db=db,
        credentials=creds,
        auth=auth,
        bus=bus,
        devices=DeviceRegistry(config.devices, DeviceOverrides(db)),  # operator's overrides
        exposition=Exposition(flypack, bus, config.history.scrape_interval_s),
        scrape_guard=ScrapeGuard.from_config(config.metrics, creds),
        history=HistoryService(config.history, bus, flypack),
    )
    log.info("collector scrape config: %s", write_scrape_config(config, creds))
    svc.alarms = AlarmEngine(config.alarms, db, bus, svc.devices, flypack=flypack)
    svc.tasks["alarms"] = svc.alarms.run
    svc.probes = ProbeService(config, svc.devices, bus)
    svc.tasks["probes"] = svc.probes.run
    svc.tasks["agent-metrics"] = lambda: own_metrics_task(flypack, bus)
    if config.loadgen.series:
        from server_agent.live.loadgen import run_loadgen

        svc.tasks["loadgen"] = lambda: run_loadgen(config.loadgen, svc.bus, config.agent.flypack)
    if config.sim.enabled or sim is not None:
        from server_agent.sim.segment import attach_segment

        attach_segment(svc, sim)  # devices, streams, tasks["sim"], a closer; svc.sim
    from server_agent.discovery.setup import attach_discovery

    svc.discovery = attach_discovery(svc)  # after sim: its devices win address clashes
    svc.stream_service = StreamService(config, db, bus, svc.alarms, extra=list(svc.streams),
                                       devices=svc.devices,  # path device hops
                                       secrets=svc.credentials.get)  # SRT passphrase_ref
    svc.tasks["streams"] = svc.stream_service.run
    if config.jobs.enabled:
        from server_agent.jobs.setup import attach_jobs

        attach_jobs(svc)  # svc.jobs, tasks["jobs"]
    return svc


class Runtime:
    """Starts and stops the background tasks of a :class:`Services` container."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for name, factory in self.services.tasks.items():
            self._tasks.append(asyncio.create_task(self._guard(name, factory), name=name))

    async def _guard(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        # a collector that crashes is logged and restarted; it never takes the agent down
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed; restarting in 2 s", name)
                await asyncio.sleep(2)

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        for close in reversed(self.services.closers):
            try:
                res = close()
                if asyncio.iscoroutine(res):
                    await res
            except Exception:
                log.exception("error while shutting down")
        self.services.db.close()
