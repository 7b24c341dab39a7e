"""History of one series: VictoriaMetrics when it answers, else the agent's own buffers.

    HistoryService.query(series, match, start, end, step)
        ├─ validate (promql.py: catalog name, catalog labels, literal values, range)
        ├─ PromQL selector ─► prometheus-api-client custom_query_range (worker thread, timeout)
        │                     ─► History(source="victoriametrics", query=...)
        └─ not configured / unreachable / error
                              ─► LiveBus buffers ─► History(source="buffer", note=
                                 "long history unavailable: ...; showing the last 2 min at
                                  full rate and 1 h at 1 s")

A VictoriaMetrics failure is never a 500: it is a ``buffer`` answer with a plain note. Only an
invalid request raises (:class:`HistoryRequestError`, 422 in the API).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from server_agent.config import HistorySection
from server_agent.contract import History, HistorySeries
from server_agent.live.buffers import SeriesBuffer
from server_agent.live.bus import LiveBus
from server_agent.metrics.catalog import MetricDef, load_all
from server_agent.metrics.promql import (
    HistoryRequestError,
    SeriesRef,
    build_query,
    check_match,
    check_range,
    resolve_series,
)

__all__ = ["BUFFER_NOTE_TAIL", "HistoryRequestError", "HistoryService"]

log = logging.getLogger("flypack.history")

BUFFER_NOTE_TAIL = "showing the last 2 min at full rate and 1 h at 1 s"
DROP_LABELS = frozenset({"__name__", "job", "instance"})
MAX_SERIES = 1000


class _Unavailable(Exception):
    """VictoriaMetrics did not give an answer; the message is the note's reason."""


class HistoryService:
    def __init__(self, config: HistorySection, bus: LiveBus, flypack: str,
                 catalog: Mapping[str, MetricDef] | None = None) -> None:
        self.config = config
        self.bus = bus
        self.flypack = flypack
        self._catalog = catalog

    @property
    def catalog(self) -> Mapping[str, MetricDef]:
        return self._catalog if self._catalog is not None else load_all()

    def prepare(self, series: str, match: Mapping[str, str], start: float, end: float,
                step: float) -> tuple[SeriesRef, dict[str, str], str]:
        """Validate a request; return the series, the full label match and the PromQL."""
        ref = resolve_series(series, self.catalog)
        check_match(ref, match)
        check_range(start, end, step)
        full = dict(match)
        if "flypack" in ref.metric.labels:
            full.setdefault("flypack", self.flypack)
        return ref, full, build_query(ref, full, step, self.config.scrape_interval_s)

    async def query(self, series: str, match: Mapping[str, str], start: float, end: float,
                    step: float) -> History:
        ref, full, promql = self.prepare(series, match, start, end, step)
        url = self.config.victoriametrics_url
        if url is None:
            reason = "VictoriaMetrics not configured ([history].victoriametrics_url)"
        else:
            try:
                result = await asyncio.wait_for(
                    asyncio.to_thread(self._query_range, url, promql, start, end, step),
                    self.config.timeout_s + 1.0,
                )
            except TimeoutError:
                reason = f"VictoriaMetrics unreachable at {url} (no answer in " \
                         f"{self.config.timeout_s:g} s)"
            except _Unavailable as exc:
                reason = str(exc)
            else:
                return self._from_vm(ref, promql, start, end, step, result)
            log.info("history from buffers: %s", reason)
        return self._from_buffers(ref, full, start, end, step,
                                  f"long history unavailable: {reason}; {BUFFER_NOTE_TAIL}")

    # --- VictoriaMetrics ----------------------------------------------------------------

    def _query_range(self, url: str, promql: str, start: float, end: float,
                     step: float) -> list[dict[str, Any]]:
        """Runs in a worker thread: prometheus-api-client is synchronous (requests).

        Imported here, not at start-up: requests and the client cost the agent ~8 MB of RSS
        that a flypack without VictoriaMetrics never needs.
        """
        import requests
        from prometheus_api_client.exceptions import PrometheusApiClientException
        from prometheus_api_client.prometheus_connect import PrometheusConnect
        from urllib3.util.retry import Retry

        timeout = cast(int, self.config.timeout_s)  # requests takes a float; the stub says int
        prom = PrometheusConnect(url=url, retry=Retry(total=0), timeout=timeout)
        try:
            data = prom.custom_query_range(
                promql,
                start_time=datetime.fromtimestamp(math.floor(start), UTC),
                end_time=datetime.fromtimestamp(math.ceil(end), UTC),
                step=f"{max(1, round(step * 1000))}ms",
            )
        except requests.ConnectionError as exc:
            why = "connection refused" if "refused" in str(exc).lower() else "cannot connect"
            raise _Unavailable(f"VictoriaMetrics unreachable at {url} ({why})") from None
        except requests.Timeout:
            raise _Unavailable(f"VictoriaMetrics unreachable at {url} (no answer in "
                               f"{self.config.timeout_s:g} s)") from None
        except PrometheusApiClientException as exc:
            raise _Unavailable(f"VictoriaMetrics at {url} answered with an error "
                               f"({_short(exc)})") from None
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise _Unavailable(f"VictoriaMetrics at {url} gave no usable answer "
                               f"({_short(exc)})") from None
        finally:
            prom.close()
        if not isinstance(data, list):
            raise _Unavailable(f"VictoriaMetrics at {url} gave no usable answer")
        return data

    def _from_vm(self, ref: SeriesRef, promql: str, start: float, end: float, step: float,
                 result: list[dict[str, Any]]) -> History:
        series: list[HistorySeries] = []
        for item in result[:MAX_SERIES]:
            metric = item.get("metric") or {}
            labels = {str(k): str(v) for k, v in metric.items() if k not in DROP_LABELS}
            points = [(float(t), _num(v)) for t, v in item.get("values") or []]
            series.append(HistorySeries(labels=labels, points=points))
        notes = []
        if len(result) > MAX_SERIES:
            notes.append(f"{len(result)} series matched; the first {MAX_SERIES} are shown, "
                         "narrow the match")
        if not series:
            notes.append("VictoriaMetrics has no data for this selector in this window")
        return History(series_name=ref.name, source="victoriametrics", note="; ".join(notes),
                       query=promql, start=start, end=end, step=step, series=series)

    # --- buffers ------------------------------------------------------------------------

    def _from_buffers(self, ref: SeriesRef, match: Mapping[str, str], start: float, end: float,
                      step: float, note: str) -> History:
        series: list[HistorySeries] = []
        for (_name, raw), buf in self.bus.series(ref.metric.name):
            labels = dict(raw)
            if "flypack" in ref.metric.labels:
                labels.setdefault("flypack", self.flypack)
            if any(labels.get(k) != v for k, v in match.items()):
                continue
            points = buffer_points(buf, start, end, ref.variant)
            if points:
                series.append(HistorySeries(labels=labels, points=points))
            if len(series) >= MAX_SERIES:
                break
        return History(series_name=ref.name, source="buffer", note=note, query=None,
                       start=start, end=end, step=step, series=series)


def buffer_points(buf: SeriesBuffer, start: float, end: float, variant: str = ""
                  ) -> list[tuple[float, float | None]]:
    """Points in [start, end]: 1 s aggregates (mean, or max/min for peaks) then full rate."""
    return buf.window(start, end, variant)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
