"""The table `make bench` prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    bench: str
    figure: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    baseline: str = ""


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
         {True: "yes", False: "NO", None: ""}[r.met], r.baseline)
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for i, c in enumerate(cells):
        print("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
