"""``GET /api/v1/history``: one series over a time window (design §8, a selector, not PromQL).

``?series=<name>&match=<label>=<value>&match=...&start=&end=&step=`` (Unix seconds; ``end``
defaults to now, ``start`` to one hour before ``end``, ``step`` to about 1000 points). The answer
says which source answered: ``victoriametrics`` or the agent's own ``buffer``.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from server_agent.api.deps import ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import History
from server_agent.metrics.promql import HistoryRequestError, parse_match

router = APIRouter(tags=["history"])


@router.get("/history", response_model=History)
async def history(
    svc: ServicesDep,
    _: Viewer,
    series: Annotated[str, Query(min_length=1, max_length=200, description="metric name")],
    match: Annotated[list[str] | None, Query(max_length=16,
                                             description="label=value, repeatable")] = None,
    start: Annotated[float | None, Query(description="Unix seconds; default end - 3600")] = None,
    end: Annotated[float | None, Query(description="Unix seconds; default now")] = None,
    step: Annotated[float | None, Query(description="seconds; default (end-start)/1000")] = None,
) -> History:
    end_ = time.time() if end is None else end
    start_ = end_ - 3600.0 if start is None else start
    step_ = step if step is not None else max(1.0, round((end_ - start_) / 1000.0, 1))
    try:
        return await svc.history.query(series, parse_match(match or []), start_, end_, step_)
    except HistoryRequestError as exc:
        raise ApiError(422, "invalid_input", str(exc),
                       "fix the named parameter; series names and labels are in "
                       "docs/metrics.md") from None
