"""History requests -> PromQL, built here and only here (design §8: a selector, not free PromQL).

The client names a series and literal label values; this module checks both against the
catalog and writes the query itself, escaping every value, so nothing a client sends can change
the shape of the query (``device=x"}or vector(1)`` becomes a label value, not PromQL).

    HistoryRequestError       a request the API refuses with 422 (message says what to fix)

Peaks (``<gauge>_max`` / ``_min``) are queried as ``max_over_time``/``min_over_time`` over one
step, so a peak inside a step survives a coarse step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from server_agent.metrics.catalog import MetricDef

MIN_STEP_S = 0.1
MAX_POINTS = 11000
MAX_WINDOW_S = 31 * 86400.0
MAX_VALUE_LEN = 256

Variant = Literal["", "max", "min"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HistoryRequestError(ValueError):
    """The history request is invalid; the message names the parameter and what to do."""


@dataclass(frozen=True, slots=True)
class SeriesRef:
    """A requested series: the catalog entry it belongs to and which peak variant, if any."""

    name: str
    metric: MetricDef
    variant: Variant = ""


def resolve_series(name: str, catalog: Mapping[str, MetricDef]) -> SeriesRef:
    d = catalog.get(name)
    if d is not None:
        return SeriesRef(name, d)
    for variant in ("max", "min"):
        base = name.removesuffix(f"_{variant}")
        d = catalog.get(base) if base != name else None
        if d is not None and d.peaks:
            return SeriesRef(name, d, variant)
    raise HistoryRequestError(
        f"series={name[:80]!r} is not a known metric; see docs/metrics.md for the names "
        "(gauges with peaks also have _max and _min)"
    )


def parse_match(items: list[str]) -> dict[str, str]:
    """``["device=enc-01", "probe=icmp"]`` -> a dict; each item is ``label=value``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise HistoryRequestError(
                f"match={item[:80]!r}: write match=<label>=<value>, e.g. match=device=enc-01")
        if name in out:
            raise HistoryRequestError(f"match: label {name!r} given twice; give each label once")
        out[name] = value
    return out


def check_match(ref: SeriesRef, match: Mapping[str, str]) -> None:
    for name, value in match.items():
        if name not in ref.metric.labels:
            raise HistoryRequestError(
                f"match: {ref.metric.name} has no label {name[:40]!r}; its labels are "
                f"{', '.join(ref.metric.labels)}")
        if len(value) > MAX_VALUE_LEN:
            raise HistoryRequestError(f"match: the value of {name} is longer than "
                                      f"{MAX_VALUE_LEN} characters")
        if _CONTROL.search(value):
            raise HistoryRequestError(f"match: the value of {name} contains control characters")


def check_range(start: float, end: float, step: float) -> None:
    if not all(math.isfinite(x) for x in (start, end, step)):
        raise HistoryRequestError("start, end and step must be finite numbers (Unix seconds)")
    if start >= end:
        raise HistoryRequestError(f"start ({start}) must be before end ({end})")
    if end - start > MAX_WINDOW_S:
        raise HistoryRequestError("the window is longer than 31 days; ask for a shorter one")
    if step < MIN_STEP_S:
        raise HistoryRequestError(f"step must be at least {MIN_STEP_S} s")
    steps = (end - start) / step
    if steps > MAX_POINTS:
        raise HistoryRequestError(
            f"{int(steps)} points per series is too many (at most {MAX_POINTS}); use "
            f"step >= {math.ceil((end - start) / MAX_POINTS * 10) / 10} s")


def escape_value(value: str) -> str:
    """A PromQL double-quoted string literal's content: backslash and quote escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def selector(name: str, match: Mapping[str, str]) -> str:
    """``name{a="x",b="y"}``: exact matches only, labels sorted, values escaped."""
    if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name):
        raise HistoryRequestError(f"series={name[:80]!r} is not a metric name")
    for k in match:
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", k):
            raise HistoryRequestError(f"match: {k[:40]!r} is not a label name")
    inner = ",".join(f'{k}="{escape_value(v)}"' for k, v in sorted(match.items()))
    return f"{name}{{{inner}}}"


def duration_ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def build_query(ref: SeriesRef, match: Mapping[str, str], step: float,
                scrape_interval_s: float) -> str:
    """The PromQL for one history request (after :func:`check_match`)."""
    sel = selector(ref.name, match)
    if ref.variant:
        window = duration_ms(max(step, scrape_interval_s))
        return f"{ref.variant}_over_time({sel}[{window}])"
    return sel
