"""`make bench` cannot rot: every benchmark group starts and finishes at its tiny size
(`python -m tests.bench --tiny GROUP`: real processes, the same code paths, seconds), and a
group that fails makes the run fail with its own error (finding 7: the simulator's, not a
FileNotFoundError about a file it never wrote). Figures at this size mean nothing; only that
each group runs to its table is checked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.bench.__main__ import GROUPS
from tests.sim_support import sim_section
from tests.support import ROOT


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.bench", "--tiny", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, **(env or {})))


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_group_runs_at_its_tiny_size(group: str) -> None:
    r = bench(group)
    out = f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    assert r.returncode == 0, out
    rows = r.stdout.strip().splitlines()[2:]  # below the header and its rule
    assert rows and "FAILED" not in r.stdout, out
    assert "Traceback" not in r.stderr, out


def test_a_simulator_that_cannot_start_fails_the_bench_in_its_own_words() -> None:
    """The footprint group's simulator held to one block that is taken: the run says why."""
    block = sim_section().base_address
    enc = f"127.{block.split('.')[1]}.1.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind((enc, 7 if os.geteuid() == 0 else 7007))  # enc-01's echo port
        r = bench("agent footprint",
                  env={"FLYPACK_BENCH_SIM_ARGS": f"--base-address {block} --blocks 1"})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED" in r.stdout and "FileNotFoundError" not in r.stdout + r.stderr
    line = next(ln for ln in r.stderr.splitlines() if ln.startswith("bench 'agent footprint'"))
    assert "no free address block" in line and block in line and f"enc-01 on {enc}" in line


def test_an_unknown_group_is_refused_with_the_list() -> None:
    r = bench("no-such-group")
    assert r.returncode == 2 and "no benchmark group 'no-such-group'" in r.stderr
    assert all(g in r.stderr for g in GROUPS) and "Traceback" not in r.stderr
