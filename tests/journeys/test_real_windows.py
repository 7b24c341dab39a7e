"""Real windows: the desktop under Xvfb at 1366x768 and 1920x1080, connected to the shared
demo, on every screen and wizard page (issue 14, the journeys tier).

    Xvfb :N -screen 0 WxHx24 (started here, stopped by PID)
      └─ python -m tests.journeys.real_windows_walk (its own process: the xcb platform)
           fleet overview (empty) ─► add a flypack ─► its login step ─► overview with a
           device down (and in sunlight) ─► one tap: the dashboard at that problem ─►
           streams with a path, devices, a device page, jobs, alarms (ack) ─► sunlight ─►
           the problem ends ─► the wizard's pages (a real sshd on loopback) ; and the
           single-agent login view

On each screen: :func:`desktop.ui.layout_check.layout_problems` (nothing past its window or
clipped by its parent, no cut text without its full text one tap away) and a screenshot:
docs/screenshots/<screen>.png at 1366x768 (the names the other tests and the README use),
docs/screenshots/1920x1080/<screen>.png at 1920x1080. The walk also checks what a person
would see go wrong: the tabs never move when the "opened at" note comes or goes, the note
goes with its problem, a tile never says "all OK" beside an active alarm.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.journeys.demo_run import DemoRun
from tests.support import ROOT, require_binary

SHOTS = ROOT / "docs" / "screenshots"
SIZES = [(1366, 768), (1920, 1080)]
SCREENS = {
    "login", "fleet-empty", "add-flypack", "add-flypack-login", "overview",
    "overview-sunlight", "dashboard-opened", "streams-path", "streams", "devices", "device",
    "jobs", "alarms", "dashboard-sunlight", "wizard-target", "wizard-hostkey",
    "wizard-checks", "wizard-settings-errors", "wizard-review", "wizard-settings",
    "wizard-run", "wizard-failed",
}
WALK_S = 600  # the whole walk, bounded


def free_display() -> int:
    for n in range(90, 190):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number in :90-:189")


@contextmanager
def xvfb(width: int, height: int) -> Iterator[str]:
    """An X server of exactly that screen size, stopped by its PID afterwards."""
    binary = require_binary("Xvfb")
    n = free_display()
    proc = subprocess.Popen([binary, f":{n}", "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"Xvfb :{n} did not start: {err[-800:]}")
            time.sleep(0.1)
        yield f":{n}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def walk(demo: DemoRun, width: int, height: int, tmp: Path) -> tuple[dict[str, object], str]:
    out = SHOTS if (width, height) == SIZES[0] else SHOTS / f"{width}x{height}"
    report = tmp / f"walk-{width}x{height}.json"
    with xvfb(width, height) as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.run(
            [sys.executable, "-m", "tests.journeys.real_windows_walk", "--url", demo.url,
             "--password", demo.password, "--out", str(out), "--report", str(report)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=WALK_S, check=False)
    log = (proc.stdout + proc.stderr)[-3000:]
    assert report.exists(), f"the walk wrote no report (exit {proc.returncode}):\n{log}"
    return json.loads(report.read_text()), log


@pytest.mark.timeout(WALK_S + 120)
@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_fits_a_real_window(demo: DemoRun, width: int, height: int,
                                         tmp_path: Path) -> None:
    result, log = walk(demo, width, height, tmp_path)
    assert result["error"] is None, f"{result['error']}\n{log}"
    assert result["platform"] == "xcb" and result["screen"] == [width, height], result
    screens = result["screens"]
    assert isinstance(screens, dict) and set(screens) == SCREENS, sorted(screens)
    assert result["facts"] == [], result["facts"]
    problems = [f"{screen}: {p}" for screen, found in screens.items() for p in found]
    assert not problems, f"{len(problems)} layout problems at {width}x{height}:\n" + \
        "\n".join(problems)
