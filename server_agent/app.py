"""The ASGI application: routers over a :class:`Services` container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server_agent import __version__
from server_agent.api import (
    alarms,
    auth,
    discovery,
    errors,
    health,
    history,
    inventory,
    jobs,
    live,
    metrics,
    streams,
)
from server_agent.contract import API_PREFIX
from server_agent.runtime import Runtime, Services


def create_app(services: Services, *, run_background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(services)
        if run_background:
            await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="flypack agent",
        version=__version__,
        description="Monitoring and automation for one broadcast flypack.",
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    for module in (health, auth, inventory, streams, live, history, alarms, jobs, discovery):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(metrics.router)  # /metrics at the root, for the collector
    if services.sim is not None:  # fault injection exists only with the simulated segment
        from server_agent.api import sim

        app.include_router(sim.router, prefix=API_PREFIX)
    return app
