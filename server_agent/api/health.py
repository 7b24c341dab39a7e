"""Liveness: no token needed, so load balancers and the desktop's first contact can use it."""

from __future__ import annotations

import time

from fastapi import APIRouter

from server_agent import __version__
from server_agent.api.deps import ServicesDep
from server_agent.contract import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(svc: ServicesDep) -> Health:
    return Health(
        status="ok",
        version=__version__,
        flypack=svc.config.agent.flypack,
        time=time.time(),
        uptime_s=time.time() - svc.started,
        tls=svc.config.agent.tls,
    )
