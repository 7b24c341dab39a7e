"""`make bench`: run every benchmark and print one table.

    python -m tests.bench                      every group
    python -m tests.bench "live path" jobs     only these groups
    python -m tests.bench --tiny               every group at a tiny size (a smoke run)

A group that fails does not stop the others: its row says FAILED with the error in its own
words (e.g. the simulator's), the message goes to stderr too, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

from tests.bench.report import TINY_ENV, Row, print_table

GROUPS = {  # imported only once the size is set (the groups read it at import)
    "live path": "live_latency",
    "agent footprint": "agent_footprint",
    "stream analysis": "ts_analysis",
    "discovery": "discovery_sweep",
    "jobs": "jobs_bench",
    "desktop": "desktop_bench",
}


def run_group(name: str, run: Callable[[], list[Row]]) -> list[Row]:
    try:
        return run()
    except Exception as exc:  # reported, never hidden: the table says FAILED and why
        return [Row(name, "group failed", None, "", error=f"{type(exc).__name__}: {exc}")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", nargs="*", metavar="GROUP", help=f"one of: {', '.join(GROUPS)}")
    p.add_argument("--tiny", action="store_true", help="every group at a tiny size (smoke)")
    args = p.parse_args(argv)
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        p.error(f"no benchmark group {unknown[0]!r}; pick from: {', '.join(GROUPS)}")
    if args.tiny:
        os.environ[TINY_ENV] = "1"  # the groups' child processes read it too
    rows: list[Row] = []
    for name, module in GROUPS.items():
        if args.groups and name not in args.groups:
            continue
        print(f"running: {name} ...", file=sys.stderr, flush=True)
        got = run_group(name, lambda m=module: importlib.import_module(f"tests.bench.{m}").run())
        for r in got:
            if r.error:
                print(f"bench {name!r} failed: {r.error}", file=sys.stderr, flush=True)
        rows.extend(got)
    print_table(rows)
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
