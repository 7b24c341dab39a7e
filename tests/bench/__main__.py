"""`make bench`: run every benchmark and print one table."""

from __future__ import annotations

import sys

from tests.bench import (
    agent_footprint,
    desktop_bench,
    discovery_sweep,
    jobs_bench,
    live_latency,
    ts_analysis,
)
from tests.bench.report import Row, print_table


def main() -> int:
    only = set(sys.argv[1:])  # `python -m tests.bench "live path"` runs one group
    rows: list[Row] = []
    for name, mod in [
        ("live path", live_latency),
        ("agent footprint", agent_footprint),
        ("stream analysis", ts_analysis),
        ("discovery", discovery_sweep),
        ("jobs", jobs_bench),
        ("desktop", desktop_bench),
    ]:
        if only and name not in only:
            continue
        print(f"running: {name} ...", file=sys.stderr, flush=True)
        rows.extend(mod.run())
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
