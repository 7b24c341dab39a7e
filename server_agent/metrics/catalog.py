"""The one list of metrics the agent exports (design §8).

Each capability declares its metrics in its own ``metric_defs`` module with :func:`declare`;
:data:`DEFINITION_MODULES` names those modules so that ``/metrics`` and the generated
``docs/metrics.md`` see every one. Names follow Prometheus conventions: ``flypack_`` prefix,
base units, counters end in ``_total``. Gauges sampled at 10 Hz set ``peaks=True`` and are also
exported as ``<name>_max`` / ``<name>_min`` over the scrape interval, so peaks survive into
history.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter"]

DEFINITION_MODULES = [
    "server_agent.metrics.metric_defs",
    "server_agent.probes.metric_defs",
    "server_agent.alarms.metric_defs",
    "server_agent.live.loadgen",
    "server_agent.video.metric_defs",
    "server_agent.video.srt.metric_defs",
    "server_agent.jobs.metric_defs",
    "server_agent.discovery.metric_defs",
]

_NAME = re.compile(r"^flypack_[a-z][a-z0-9_]*$")
_UNITS = ("seconds", "bytes", "ratio", "bits_per_second", "info", "")


@dataclass(frozen=True, slots=True)
class MetricDef:
    name: str
    type: MetricType
    unit: str
    help: str
    labels: tuple[str, ...]
    peaks: bool = False


CATALOG: dict[str, MetricDef] = {}


def declare(
    name: str,
    type: MetricType,
    help: str,
    labels: tuple[str, ...] = ("flypack",),
    unit: str = "",
    peaks: bool = False,
) -> MetricDef:
    if not _NAME.match(name):
        raise ValueError(f"metric {name!r} must match {_NAME.pattern}")
    if type == "counter" and not name.endswith("_total"):
        raise ValueError(f"counter {name!r} must end in _total")
    if unit not in _UNITS:
        raise ValueError(f"metric {name!r}: unit {unit!r} is not a base unit {_UNITS}")
    if unit and unit != "info" and unit not in name:
        raise ValueError(f"metric {name!r} must name its unit {unit!r}")
    if peaks and type != "gauge":
        raise ValueError(f"only gauges have peaks ({name!r})")
    d = MetricDef(name, type, unit, help, labels, peaks)
    if name in CATALOG and CATALOG[name] != d:
        raise ValueError(f"metric {name!r} declared twice, differently")
    CATALOG[name] = d
    return d


def load_all() -> dict[str, MetricDef]:
    for mod in DEFINITION_MODULES:
        importlib.import_module(mod)
    return CATALOG
