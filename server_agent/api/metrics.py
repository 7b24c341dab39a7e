"""``GET /metrics`` (at the root, not under /api/v1): Prometheus text for the one collector.

Protected by a scrape bearer token or, with ``[metrics].loopback_only``, by the client's
address (server_agent/metrics/access.py); not part of the desktop's OpenAPI contract.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server_agent.api.deps import ServicesDep
from server_agent.api.errors import ApiError
from server_agent.metrics.access import ScrapeDenied
from server_agent.metrics.exposition import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, svc: ServicesDep) -> Response:
    # async on purpose: rendering reads the live buffers, which only the event loop mutates
    client = request.client.host if request.client else None
    try:
        svc.scrape_guard.check(client, request.headers.get("authorization"))
    except ScrapeDenied as exc:
        raise ApiError(exc.status, exc.error, exc.detail, exc.hint) from None
    return Response(svc.exposition.render(), media_type=CONTENT_TYPE)
