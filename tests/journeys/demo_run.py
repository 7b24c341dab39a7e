"""A running `make demo` (headless, `--no-desktop` unless asked) for the journeys tier.

    DemoRun.start(...)  scripts/demo.py on a free port, read its banner (URL, password,
                        state dir), wait until the simulated segment is ready
    run.token()         an admin access token
    run.api(method, path, ...)  an authenticated httpx call
    run.stop()          SIGINT, wait, then check that nothing the demo started is left
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import ROOT, free_port


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False)
    return {int(x) for x in out.stdout.split()}


@dataclass
class DemoRun:
    proc: subprocess.Popen[str]
    url: str
    port: int
    password: str
    state_dir: Path
    banner: str
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @classmethod
    def start(cls, *, args: list[str] | None = None, cwd: Path = ROOT,
              python: str = sys.executable, env: dict[str, str] | None = None,
              within_s: float = 240.0) -> DemoRun:
        """Start the demo as `make demo` does (scripts/demo.py) and wait for its banner."""
        port = free_port()
        env = dict(os.environ if env is None else env)
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        argv = [python, str(cwd / "scripts" / "demo.py"), "--port", str(port), *(args or [])]
        if "--screenshots" not in (args or []) and "--no-desktop" not in (args or []):
            argv.append("--no-desktop")
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        assert proc.stdout is not None
        deadline = time.monotonic() + within_s
        banner_done = False
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip() == "Ctrl-C to stop":
                banner_done = True
                break
        text = "".join(lines)
        if not banner_done:
            proc.kill()
            proc.wait(10)
            raise RuntimeError(f"the demo did not come up within {within_s:.0f} s:\n{text}")
        password = text.split("password ", 1)[1].split()[0]
        url = text.split("agent:", 1)[1].split()[0]
        state_dir = Path(text.split("state dir:", 1)[1].split()[0])
        run = cls(proc=proc, url=url, port=port, password=password, state_dir=state_dir,
                  banner=text, lines=lines)
        run._reader = threading.Thread(target=run._drain, daemon=True)
        run._reader.start()
        return run

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def token(self) -> str:
        r = httpx.post(f"{self.url}/api/v1/auth/login",
                       json={"username": "admin", "password": self.password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **kw.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers,
                             timeout=kw.pop("timeout", 30), **kw)

    def stop(self) -> None:
        """Ctrl-C as a user would; then nothing the demo started may be left running."""
        kids = _children(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)
        for k in kids:  # by PID, also when the demo failed to stop them
            if Path(f"/proc/{k}").exists():
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
