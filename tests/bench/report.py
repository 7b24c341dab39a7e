"""The table `make bench` prints, and the benchmarks' size.

``FLYPACK_BENCH_TINY=1`` (``python -m tests.bench --tiny``) runs every group at a tiny size:
the same processes and code paths, seconds instead of minutes, figures meaningless. The
journeys tier runs it (tests/journeys/test_bench_smoke.py) so that `make bench` cannot rot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
TINY_ENV = "FLYPACK_BENCH_TINY"


def tiny() -> bool:
    return os.environ.get(TINY_ENV) == "1"


def size(full: T, small: T) -> T:
    """``full`` for `make bench`, ``small`` when the groups run at their tiny size."""
    return small if tiny() else full


@dataclass
class Row:
    bench: str
    figure: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    baseline: str = ""
    error: str | None = None  # the group (or this figure) failed: why, in its own words


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def print_table(rows: list[Row]) -> None:
    head = ("benchmark", "figure", "value", "target", "met", "baseline (same run)")
    cells = [head] + [
        (r.bench, r.figure, "n/a" if r.value is None else f"{r.value:.1f} {r.unit}", r.target,
         "FAILED" if r.error else {True: "yes", False: "NO", None: ""}[r.met],
         r.error or r.baseline)
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for i, c in enumerate(cells):
        print("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
