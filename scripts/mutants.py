"""`make mutants`: mutation testing of the critical modules, and whether their tests notice.

    mutmut run [pattern]          plants one small bug at a time in each module that
                                  [tool.mutmut] only_mutate lists (pyproject.toml) and runs the
                                  unit tests that reach it, in a copy of the tree (mutants/)
    mutants/**/*.py.meta          mutmut's verdict per mutant (the exit code of its tests)
    docs/testing.md               "Equivalent mutants": mutants no test can kill, each with why
        │
        ▼
    a table per module: killed, survived, equivalent, timed out, score; then every survivor
    that is not listed as equivalent, with `mutmut show NAME` to see its diff

Score = (killed + timed out) / (all checked - equivalent - skipped): a mutant no test reaches
("no tests") counts against it. The target is TARGET in every module; the exit status is 1
when a module misses it, 2 when mutmut itself failed.

    python scripts/mutants.py                       all critical modules (about an hour)
    python scripts/mutants.py 'server_agent.auth.*' the mutants whose names match
    python scripts/mutants.py --report              only the table of the last run
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
TESTING_DOC = ROOT / "docs" / "testing.md"
TARGET = 0.85
# mutmut's exit codes of a mutant's test run, as mutmut/stats.py status_by_exit_code reads
# them (a mutant the type check caught counts as killed; anything else is "other")
VERDICTS = {0: "survived", 1: "killed", 3: "killed", 37: "killed", 5: "no tests",
            33: "no tests", 34: "skipped", 24: "timeout", -24: "timeout", 36: "timeout",
            152: "timeout", 255: "timeout"}
_EQUIVALENT = re.compile(r"^- `(server_agent\.[\w.ǁ]+__mutmut_\d+)`: (.+)$")


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return sum(n for k, n in self.counts.items() if k != "not checked")

    @property
    def score(self) -> float | None:
        judged = self.checked - self.counts["equivalent"] - self.counts["skipped"]
        if judged <= 0:
            return None
        return (self.counts["killed"] + self.counts["timeout"]) / judged


def equivalents(doc: Path = TESTING_DOC) -> dict[str, str]:
    """Mutant name -> why no test can kill it, from the doc's "Equivalent mutants" list."""
    found: dict[str, str] = {}
    for line in doc.read_text().splitlines():
        m = _EQUIVALENT.match(line.strip())
        if m:
            found[m.group(1)] = m.group(2)
    return found


def verdict(code: int | None) -> str:
    return "not checked" if code is None else VERDICTS.get(code, "other")


def module_of(mutant: str) -> str:
    """server_agent.auth.jwt_hs256.x_decode__mutmut_5 -> server_agent.auth.jwt_hs256"""
    return mutant.rsplit(".", 1)[0]


def tally(patterns: list[str], known: dict[str, str]) -> dict[str, Tally]:
    by_module: dict[str, Tally] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        codes: dict[str, int | None] = json.loads(meta.read_text()).get("exit_code_by_key", {})
        for name, code in codes.items():
            if patterns and not any(fnmatch(name, p) for p in patterns):
                continue
            t = by_module.setdefault(module_of(name), Tally())
            v = verdict(code)
            if v == "survived" and name in known:
                v = "equivalent"
            t.counts[v] += 1
            if v in ("survived", "no tests", "other"):
                t.survivors.append(name if v == "survived" else f"{name} ({v})")
    return by_module


def report(by_module: dict[str, Tally]) -> bool:
    """Prints the table and the survivors; True when every module meets the target."""
    cols = ("killed", "timeout", "survived", "equivalent", "no tests", "other",
            "not checked")
    print(f"{'module':44} " + " ".join(f"{c:>11}" for c in cols) + "      score")
    ok = True
    for mod, t in sorted(by_module.items()):
        score = t.score
        met = score is not None and score >= TARGET and not t.counts["not checked"]
        ok = ok and met
        shown = "   -" if score is None else f"{score:6.1%}"
        print(f"{mod:44} " + " ".join(f"{t.counts[c]:>11}" for c in cols)
              + f"   {shown} {'ok' if met else 'BELOW ' + format(TARGET, '.0%')}")
    survivors = [s for t in by_module.values() for s in t.survivors]
    if survivors:
        print(f"\n{len(survivors)} surviving mutants (see one: .venv/bin/mutmut show NAME; "
              "kill it with a test, or list it under 'Equivalent mutants' in docs/testing.md "
              "with the reason; 'no tests': no test reaches that code):")
        for name in survivors:
            print(f"  {name}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("patterns", nargs="*", help="mutant name patterns (default: all)")
    ap.add_argument("--report", action="store_true", help="only the table of the last run")
    args = ap.parse_args(argv)
    known = equivalents()
    if not args.report:
        mutmut = Path(sys.executable).with_name("mutmut")
        log = ROOT / "mutants.log"
        with log.open("w") as out:
            rc = subprocess.run([str(mutmut), "run", *args.patterns], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            print(f"mutmut failed (exit {rc}); its output is in {log}", file=sys.stderr)
            return 2
    if not MUTANTS.is_dir():
        print("no mutation run yet: run `make mutants` first", file=sys.stderr)
        return 2
    by_module = tally(args.patterns, known)
    if not by_module:
        print("no mutants matched", args.patterns, file=sys.stderr)
        return 2
    ok = report(by_module)
    seen = {n for meta in MUTANTS.rglob("*.py.meta")
            for n in json.loads(meta.read_text()).get("exit_code_by_key", {})}
    gone = sorted(n for n in known if n not in seen)
    if gone:  # the source changed and mutmut renumbered: the list must be reviewed again
        print(f"\n{len(gone)} mutants listed as equivalent in docs/testing.md no longer exist "
              "(review the list):\n  " + "\n  ".join(gone))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
