"""``GET /metrics``: the live bus rendered in the Prometheus text format 0.0.4.

    catalog.load_all() ─┐
    LiveBus.buffers ────┼─► Exposition.render() ─► "# HELP ..\\n# TYPE ..\\nname{labels} value\\n"
    agent state ────────┘    (own metrics computed at scrape time)

Rules (design §8):

- only series whose name is in the catalog are exported; others are logged once and skipped;
- a missing value (``None``, no sample, NaN) is left out, never written as 0;
- counters are exported as the running totals the collectors publish;
- gauges declared with ``peaks=True`` are also exported as ``<name>_max`` / ``<name>_min``: the
  extremes of the full-rate samples over the last scrape interval, so peaks survive into history;
- the ``flypack`` label is filled in with this flypack's id where a collector left it out.

Rendering reads the buffers without awaiting, so call it on the event loop (an ``async``
endpoint), never from a worker thread while collectors publish.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from server_agent import __version__
from server_agent.live.bus import LiveBus, sample
from server_agent.metrics import metric_defs
from server_agent.metrics.catalog import MetricDef, load_all

log = logging.getLogger("flypack.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PEAK_SUFFIXES = ("_max", "_min")
AGENT_METRICS = frozenset(
    {metric_defs.AGENT_INFO.name, metric_defs.LIVE_SUBSCRIBERS.name, metric_defs.LIVE_SAMPLES.name}
)

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def escape_label_value(value: str) -> str:
    """Label value escaping of the text format: backslash, double quote and line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text escaping: backslash and line feed (quotes stay as they are)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(v: float) -> str:
    """A finite float as Prometheus writes it: integers without a fraction, else repr()."""
    v = float(v)  # collectors may publish ints
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def format_labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


@dataclass(slots=True)
class _Family:
    name: str
    type: str
    help: str
    lines: list[str]


class Exposition:
    """Renders the catalog's series from the bus; the agent's own metrics are computed here."""

    def __init__(self, flypack: str, bus: LiveBus, scrape_interval_s: float,
                 catalog: Mapping[str, MetricDef] | None = None) -> None:
        self.flypack = flypack
        self.bus = bus
        self.scrape_interval_s = scrape_interval_s
        self._catalog = catalog
        self._warned: set[str] = set()

    @property
    def catalog(self) -> Mapping[str, MetricDef]:
        return self._catalog if self._catalog is not None else load_all()

    def own_samples(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """The agent's own metrics, from its state now."""
        fp = {"flypack": self.flypack}
        return {
            metric_defs.AGENT_INFO.name: [({**fp, "version": __version__}, 1.0)],
            metric_defs.LIVE_SUBSCRIBERS.name: [(fp, float(len(self.bus.subscribers)))],
            metric_defs.LIVE_SAMPLES.name: [(fp, float(self.bus.published))],
        }

    def render(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        since = now - self.scrape_interval_s
        catalog = self.catalog
        families: dict[str, _Family] = {}

        def family(name: str, d: MetricDef, suffix: str = "") -> _Family:
            full = name + suffix
            fam = families.get(full)
            if fam is None:
                help_ = d.help
                if suffix:
                    which = "Maximum" if suffix == "_max" else "Minimum"
                    help_ = f"{which} over the scrape interval of {name}: {d.help}"
                fam = families[full] = _Family(full, d.type, help_, [])
            return fam

        for name, samples in self.own_samples().items():
            d = catalog.get(name)
            if d is None:
                continue
            for labels, value in samples:
                family(name, d).lines.append(f"{name}{format_labels(labels)} {format_value(value)}")

        for (name, raw_labels), buf in self.bus.buffers.items():
            if name in AGENT_METRICS:
                continue  # computed above from the agent's state
            d = catalog.get(name)
            if d is None:
                self._warn_once(name, "is not in the metrics catalog; declare it in a metric_defs "
                                      "module (see docs/metrics.md)")
                continue
            label_map = self._labels(name, d, raw_labels)
            if label_map is None:
                continue
            lab = format_labels(label_map)
            last = buf.latest
            if last is not None and last[1] is not None and math.isfinite(last[1]):
                family(name, d).lines.append(f"{name}{lab} {format_value(last[1])}")
            if d.peaks:
                lo, hi = buf.extremes_since(since)
                for suffix, v in (("_max", hi), ("_min", lo)):
                    if v is not None and math.isfinite(v):
                        family(name, d, suffix).lines.append(
                            f"{name}{suffix}{lab} {format_value(v)}")
        return "".join(_render_family(families[k]) for k in sorted(families))

    def _labels(self, name: str, d: MetricDef, raw: Iterable[tuple[str, str]]
                ) -> dict[str, str] | None:
        labels = dict(raw)
        bad = [k for k in labels if not _LABEL_NAME.match(k) or k.startswith("__")]
        if bad:
            self._warn_once(name, f"has invalid label names {bad}; not exported")
            return None
        if "flypack" in d.labels:
            labels.setdefault("flypack", self.flypack)
        return labels

    def _warn_once(self, name: str, what: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            log.warning("series %s %s", name, what)


def _render_family(fam: _Family) -> str:
    if not fam.lines:
        return ""
    head = f"# HELP {fam.name} {escape_help(fam.help)}\n# TYPE {fam.name} {fam.type}\n"
    return head + "\n".join(fam.lines) + "\n"


def publish_own_metrics(flypack: str, bus: LiveBus, now: float | None = None) -> None:
    """Put the agent's own gauges/counters on the bus too, so live plots and buffers have them."""
    fp = {"flypack": flypack}
    published = float(bus.published)
    bus.publish([
        sample(metric_defs.LIVE_SUBSCRIBERS.name, fp, float(len(bus.subscribers)), now),
        sample(metric_defs.LIVE_SAMPLES.name, fp, published, now),
    ])


async def own_metrics_task(flypack: str, bus: LiveBus, interval_s: float = 1.0) -> None:
    """Background task: publish the agent's own metrics on the bus every ``interval_s``."""
    while True:
        publish_own_metrics(flypack, bus)
        await asyncio.sleep(interval_s)
