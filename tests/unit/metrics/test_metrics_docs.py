"""docs/metrics.md is generated from the catalog and must be up to date (design §8)."""

from __future__ import annotations

import re

from server_agent.metrics.catalog import load_all
from server_agent.metrics.docs import exported_names, render
from tests.support import ROOT

DOC = ROOT / "docs" / "metrics.md"
REGENERATE = "regenerate it: .venv/bin/python -m server_agent.metrics.docs > docs/metrics.md"


def test_docs_metrics_md_is_up_to_date() -> None:
    assert DOC.read_text() == render(), f"docs/metrics.md is out of date; {REGENERATE}"


def test_every_catalog_name_is_in_the_docs_and_vice_versa() -> None:
    documented = set(re.findall(r"^\| `(flypack_[a-z0-9_]+)` \|", DOC.read_text(), re.M))
    exported = set(exported_names(load_all()))
    assert exported - documented == set(), f"missing from docs/metrics.md; {REGENERATE}"
    assert documented - exported == set(), f"documented but not declared; {REGENERATE}"


def test_peak_variants_do_not_collide_with_declared_names() -> None:
    catalog = load_all()
    for d in catalog.values():
        if d.peaks:
            for suffix in ("_max", "_min"):
                assert d.name + suffix not in catalog, f"{d.name}{suffix} is declared twice"


def test_metric_names_in_the_agent_source_are_declared() -> None:
    """A literal metric name in the agent's code that is not in the catalog would be dropped
    by /metrics: declare it (catalog.declare) or refer to the MetricDef's .name."""
    names = set(exported_names(load_all()))
    literal = re.compile(r"""["'](flypack_[a-z][a-z0-9_]*)["']""")
    unknown: dict[str, str] = {}
    for path in (ROOT / "server_agent").rglob("*.py"):
        for m in literal.finditer(path.read_text()):
            if m.group(1) not in names and not m.group(1).endswith("_"):
                unknown.setdefault(m.group(1), str(path.relative_to(ROOT)))
    assert unknown == {}, "series names used in code but not declared in a metric_defs module"
