"""`make demo` as a user without a display runs it: agent + segment + history + screenshots of
every main screen; the terminal says one line per change of the alarms, raised and cleared."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, free_port, require_binary

pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]
SCREENS = ("login.png", "fleet-overview.png", "dashboard-streams.png", "dashboard.png",
           "dashboard-jobs.png", "dashboard-alarms.png", "dashboard-sunlight.png")


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True)
    return {int(x) for x in out.stdout.split()}


def _wait_line(lines: list[str], start: int, cond: Callable[[str], bool],
               within_s: float) -> str | None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for line in lines[start:]:
            if cond(line):
                return line
        time.sleep(0.2)
    return None


def test_demo_headless_renders_screenshots_and_stops_cleanly(tmp_path: Path) -> None:
    require_binary("victoria-metrics")
    require_binary("ffmpeg")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    shots = tmp_path / "shots"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--port", str(port),
         "--screenshots", str(shots)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    kids: set[int] = set()
    try:
        up = _wait_line(lines, 0, lambda ln: "the agent keeps running" in ln, 300)
        text = "".join(lines)
        assert up, text
        assert "flypack demo is up" in text, text
        password = text.split("password ", 1)[1].split()[0]
        assert "history:   VictoriaMetrics at http://127.0.0.1:" in text, text
        assert "screenshots in" in text, text
        for name in SCREENS:  # every main screen (issue 14, finding 9), each printed
            assert (shots / name).stat().st_size > 10_000, name
            assert str(shots / name) in text, name
        shown = json.loads((shots / "screens.json").read_text())
        assert shown["streams"]["agent_path"] and len(shown["streams"]["hops"]) >= 3, shown
        assert "connectivity-check" in shown["jobs"]["playbooks"], shown
        assert "flypack-demo" in shown["overview"]["tile"], shown
        assert shown["devices"]["rows"] >= 40, shown
        url = f"http://127.0.0.1:{port}"
        tok = httpx.post(f"{url}/api/v1/auth/login",
                         json={"username": "admin", "password": password}).json()
        auth = {"Authorization": f"Bearer {tok['access_token']}"}
        devices = httpx.get(f"{url}/api/v1/devices", headers=auth).json()
        assert len(devices) >= 40
        kids = _children(proc.pid)
        assert kids, "the demo should have started VictoriaMetrics and snmpsim"

        # the terminal: one summary line when enc-01 goes down, one when it is back
        mark = len(lines)
        r = httpx.put(f"{url}/api/v1/sim/faults/enc-01", json={"down": True}, headers=auth)
        assert r.status_code == 200, r.text
        raised = _wait_line(lines, mark, lambda ln: ln.startswith("alarms: ") and
                            re.search(r"\+\d+ unreachable enc-01", ln) is not None, 90)
        assert raised, "no summary line for enc-01 down:\n" + "".join(lines[mark:])
        assert "critical" in raised, raised
        mark = len(lines)
        r = httpx.delete(f"{url}/api/v1/sim/faults", headers=auth)
        assert r.status_code in (200, 204), r.text
        cleared = _wait_line(lines, mark, lambda ln: ln.startswith("alarms: ") and
                             re.search(r"cleared \d+ unreachable enc-01", ln) is not None, 90)
        assert cleared, "no summary line for enc-01 back:\n" + "".join(lines[mark:])
        text = "".join(lines)
        assert "alarm raised:" not in text, text[-3000:]  # the engine's log: in alarms.log
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(10)
    rest = "".join(lines)
    assert proc.returncode == 0, rest[-3000:]
    assert "flypack demo stopped" in rest
    alive = [k for k in kids if Path(f"/proc/{k}").exists()]
    assert not alive, f"children left running: {alive}"
