"""Docs as tests (issue 14): every shell block in README.md and docs/*.md that a user would
paste runs against the running demo, or is marked in the file as illustrative with the reason.

    each block ─► bash -euo pipefail, in a temporary directory (``<!-- run: cwd=repo -->``:
                  the repository), the venv's bin first on PATH (an activated venv),
                  FLYPACK_URL / FLYPACK_PASSWORD exported as the demo's banner says to, and
                  <demo-url> <demo-port> <demo-password> <state_dir> substituted; bounded by a
                  timeout
              ─► exit status 0; a ```console block's shown output found in order

The banner's own shell lines run too, exactly as printed. A new unmarked shell block is
collected and run like the others: if it does not run, this fails. The convention is in
docs/architecture.md ("Docs as tests"); the parser in tests/journeys/docs_blocks.py.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.journeys.demo_run import DemoRun
from tests.journeys.docs_blocks import Block, matches, parse, stray_markers
from tests.support import ROOT

pytestmark = pytest.mark.timeout(600)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [b for doc in DOCS for b in parse(doc) if b.is_shell]
RUNNABLE = [b for b in BLOCKS if b.runs]


def _env(demo: DemoRun) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(FLYPACK_URL=demo.url, FLYPACK_PASSWORD=demo.password,
               FLYPACK_PORT=str(demo.port))
    env.pop("TOKEN", None)
    return env


def _bash(script: str, cwd: Path, env: dict[str, str], timeout_s: float,
          what: str) -> subprocess.CompletedProcess[str]:
    """bash -euo pipefail in a session of its own: on timeout the whole group is killed (a
    doc block that starts a server must not outlive its test)."""
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{what} did not finish within {timeout_s:.0f} s (stopped):\n{script}\n"
                    f"{out[-2000:]}{err[-2000:]}")
    finally:
        try:  # anything it left in the background
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_every_shell_block_runs_or_says_why_not() -> None:
    """The convention itself (no demo needed): markers well-formed and where they belong."""
    problems = [p for b in BLOCKS for p in b.problems()]
    problems += [p for doc in DOCS for p in stray_markers(doc)]
    problems += [p for doc in DOCS for b in parse(doc) if not b.is_shell for p in b.problems()]
    assert not problems, "\n".join(problems)
    assert any(b.where.startswith("README.md") for b in RUNNABLE), "the README's API tour runs"


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.where for b in RUNNABLE])
def test_doc_block_runs_against_the_demo(block: Block, demo: DemoRun) -> None:
    subst = {"<demo-url>": demo.url, "<demo-port>": str(demo.port),
             "<demo-password>": demo.password, "<state_dir>": str(demo.state_dir)}
    script = block.script(subst)
    refused = block.problems()  # e.g. it would write /etc: fail without running it
    assert not refused, "\n".join(refused)
    with tempfile.TemporaryDirectory(prefix="flypack-doc-") as tmp:
        cwd = ROOT if block.options.get("cwd") == "repo" else Path(tmp)
        r = _bash(script, cwd, _env(demo), block.timeout_s, block.where)
    shown = f"{block.where}:\n{script}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n" \
            f"{r.stderr[-3000:]}"
    assert r.returncode == 0, f"exit {r.returncode}: {shown}"
    why = matches(r.stdout, block.expected(subst))
    assert why is None, f"{why}: {shown}"


def banner_commands(banner: str) -> list[str]:
    """The shell lines the banner prints (indented, starting with a command), in order."""
    return [ln.strip() for ln in banner.splitlines() if ln.startswith("  ")
            and (ln.split()[0] in ("export", "curl") or ln.strip().startswith("TOKEN="))]


def test_banner_commands_run_as_printed(demo: DemoRun) -> None:
    cmds = banner_commands(demo.banner)
    assert cmds and cmds[0].startswith("export "), demo.banner
    exported = dict(w.split("=", 1) for w in shlex.split(cmds[0])[1:])
    assert exported == {"FLYPACK_URL": demo.url, "FLYPACK_PASSWORD": demo.password}
    assert any(c.startswith("TOKEN=") for c in cmds) and \
        sum(c.startswith("curl ") for c in cmds) >= 3, cmds
    env = {k: v for k, v in _env(demo).items()
           if k not in ("FLYPACK_URL", "FLYPACK_PASSWORD", "FLYPACK_PORT")}
    with tempfile.TemporaryDirectory(prefix="flypack-banner-") as tmp:
        # the fault goes in and out again at once; the stream's path is printed last
        r = _bash("\n".join(cmds) + "\n", Path(tmp), env, 60, "the banner's commands")
    assert r.returncode == 0, f"exit {r.returncode}\n{cmds}\n{r.stdout[-2000:]}{r.stderr}"
    assert '"id":"sim-enc-01"' in r.stdout.replace(" ", ""), r.stdout[-2000:]
