"""Grafana provisioning of the compose stack: valid JSON dashboards whose queries use only
metric names from docs/metrics.md (plus the stack's own, listed in docs/monitoring-stack.md)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.compose_support import (
    CONFIG_DIR,
    DASHBOARD_DIR,
    dashboard_queries,
    dashboards,
    documented_metrics,
    metric_names,
    stack_metrics,
)

DATASOURCE_UID = "victoriametrics"


@pytest.mark.parametrize(("expr", "names"), [
    ('sum by (device) (rate(flypack_probe_lost_total{flypack=~"$flypack"}[$__rate_interval]))',
     {"flypack_probe_lost_total"}),
    ('count(max by (flypack, device) (flypack_probe_up{x="a{b}"}) == 0) or vector(0)',
     {"flypack_probe_up"}),
    ("topk(10, max(a_metric) by (job)) / on(job) group_left(x) b:recorded offset 5m",
     {"a_metric", "b:recorded"}),
    ('probe_icmp_duration_seconds{phase="rtt"} > 1e-3 and bool up', {"probe_icmp_duration_seconds",
                                                                     "up"}),
    ("label_values(flypack_agent_info, flypack)", {"flypack_agent_info"}),
    ("label_values(flypack)", set()),
    ("histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))", {"x_bucket"}),
])
def test_metric_names_are_parsed_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_an_unknown_name_is_caught() -> None:
    allowed = documented_metrics() | stack_metrics()
    expr = 'sum(rate(flypack_probe_lost_total[1m])) / sum(flypack_bogus_total{flypack="x"})'
    assert metric_names(expr) - allowed == {"flypack_bogus_total"}


def test_the_allowed_lists_are_real() -> None:
    docs = documented_metrics()
    assert "flypack_probe_up" in docs and "flypack_ts_bitrate_bits_per_second_max" in docs
    stack = stack_metrics()
    assert {"up", "probe_success"} <= stack
    # the stack list must not smuggle in agent names: those come from docs/metrics.md only
    assert not {n for n in stack if n.startswith("flypack_")}


def test_dashboards_are_valid_grafana_json() -> None:
    boards = dashboards()
    assert set(boards) >= {"flypack-overview.json", "flypack-blackbox.json"}
    uids = [b["uid"] for b in boards.values()]
    assert len(set(uids)) == len(uids)
    for name, board in boards.items():
        assert board["title"] and board["panels"], name
        ids = [p["id"] for p in board["panels"]]
        assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == DATASOURCE_UID, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            for t in panel["targets"]:
                assert t["expr"].strip() and t["datasource"]["uid"] == DATASOURCE_UID
            g = panel["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24, (name, panel["title"])
        cells: dict[tuple[int, int], str] = {}
        for panel in board["panels"]:  # no two panels cover the same grid cell
            g = panel["gridPos"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, (name, panel["title"], cells[(x, y)])
                    cells[(x, y)] = panel["title"]


def test_dashboard_queries_use_only_documented_metric_names() -> None:
    allowed = documented_metrics() | stack_metrics()
    unknown: dict[str, set[str]] = {}
    for name, board in dashboards().items():
        queries = dashboard_queries(board)
        assert queries, name
        for q in queries:
            # a __name__ matcher would hide a name from this check
            assert not re.search(r"__name__\s*[=!]", q), f"{name}: use the metric name: {q}"
            bad = metric_names(q) - allowed
            if bad:
                unknown.setdefault(name, set()).update(bad)
    assert not unknown, (f"dashboard queries name metrics that docs/metrics.md (or the stack list "
                         f"in docs/monitoring-stack.md) does not: {unknown}")


def test_the_overview_covers_devices_probes_streams_srt_and_alarms() -> None:
    used = set().union(*(metric_names(q) for q in dashboard_queries(
        dashboards()["flypack-overview.json"])))
    for prefix in ("flypack_probe_up", "flypack_probe_rtt_seconds", "flypack_probe_loss_ratio",
                   "flypack_stream_", "flypack_ts_", "flypack_alarms_active"):
        assert any(n.startswith(prefix) for n in used), prefix
    if any(n.startswith("flypack_srt_") for n in documented_metrics()):
        assert any(n.startswith("flypack_srt_") for n in used)


def test_provisioning_points_grafana_at_victoriametrics() -> None:
    ds = yaml.safe_load((CONFIG_DIR / "grafana/provisioning/datasources/victoriametrics.yml")
                        .read_text())
    [source] = ds["datasources"]
    assert source["type"] == "prometheus" and source["uid"] == DATASOURCE_UID
    assert source["url"] == "http://victoriametrics:8428"
    prov = yaml.safe_load((CONFIG_DIR / "grafana/provisioning/dashboards/flypack.yml")
                          .read_text())
    [provider] = prov["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    for path in DASHBOARD_DIR.glob("*.json"):
        json.loads(path.read_text())  # a broken file would be skipped by Grafana silently
