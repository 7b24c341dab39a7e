"""`make bench`: run every benchmark and print one table."""

from __future__ import annotations

import sys

from tests.bench import live_latency
from tests.bench.report import Row, print_table


def main() -> int:
    rows: list[Row] = []
    for name, mod in [("live path", live_latency)]:
        print(f"running: {name} ...", file=sys.stderr, flush=True)
        rows.extend(mod.run())
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
