"""`make demo` as a user without a display runs it: agent + segment + history + screenshots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, free_port, require_binary

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True)
    return {int(x) for x in out.stdout.split()}


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
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "the agent keeps running" in line:
                break
        text = "".join(lines)
        assert "flypack demo is up" in text, text
        password = text.split("password ", 1)[1].split()[0]
        assert "history:   VictoriaMetrics at http://127.0.0.1:" in text, text
        assert "screenshots in" in text, text
        for name in ("login.png", "dashboard.png"):
            assert (shots / name).stat().st_size > 10_000
        url = f"http://127.0.0.1:{port}"
        tok = httpx.post(f"{url}/api/v1/auth/login",
                         json={"username": "admin", "password": password}).json()
        devices = httpx.get(f"{url}/api/v1/devices",
                            headers={"Authorization": f"Bearer {tok['access_token']}"}).json()
        assert len(devices) >= 40
        kids = _children(proc.pid)
        assert kids, "the demo should have started VictoriaMetrics and snmpsim"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert proc.returncode == 0, rest
    assert "flypack demo stopped" in rest
    alive = [k for k in kids if Path(f"/proc/{k}").exists()]
    assert not alive, f"children left running: {alive}"
