"""Helpers shared by the test tiers: real binaries, free ports, the agent as a subprocess."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_REAL = os.environ.get("FLYPACK_REQUIRE_REAL") == "1"
AGENT_BIN = str(Path(sys.executable).with_name("flypack-agent"))
ADMIN_PASSWORD = "admin-pass-1"
PASSWORDS = {"viewer": "viewer-pass-1", "operator": "operator-pass-1", "admin": ADMIN_PASSWORD}


def require_binary(name: str) -> str:
    """Path of a real binary; skip without it, but fail when CI requires real components."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/usr/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        msg = f"{name} is not installed (scripts/setup.sh installs it as root)"
        if REQUIRE_REAL:
            pytest.fail(msg + " and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(msg)
    return path


def require_real(present: bool, missing: str) -> None:
    """Skip when a real component is ``missing``, but fail when CI requires real ones."""
    if not present:
        if REQUIRE_REAL:
            pytest.fail(f"{missing} and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(missing)


def require_root(reason: str) -> None:
    if os.geteuid() != 0:
        if REQUIRE_REAL:
            pytest.fail(f"needs root ({reason}) and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(f"needs root: {reason}")


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None,
              verify: bool | ssl.SSLContext = True) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            httpx.get(url, timeout=1.0, verify=verify)
            return
        except httpx.HTTPError as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last}")


@contextmanager
def loopback_mirror() -> Iterator[str]:
    """A package 'mirror' on loopback (answers HEAD / with 200): the wizard's checks page."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def refused(address: str, port: int, timeout: float = 3.0) -> bool:
    """True when nothing listens on address:port (a connect is refused)."""
    try:
        socket.create_connection((address, port), timeout=timeout).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not accept connections within {timeout} s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a process we started (by PID): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class AgentProc:
    url: str
    config: Path
    state_dir: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def token(self, role: str = "admin") -> str:
        r = httpx.post(f"{self.url}/api/v1/auth/login",
                       json={"username": role, "password": PASSWORDS[role]}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])


def write_config(tmp: Path, port: int, extra: str = "") -> Path:
    cfg = tmp / "agent.toml"
    cfg.write_text(
        f'[agent]\nflypack = "flypack-test"\nlisten = "127.0.0.1"\nport = {port}\n'
        f'state_dir = "{tmp / "state"}"\n' + extra
    )
    return cfg


def add_users(cfg: Path) -> None:
    for role, pw in PASSWORDS.items():
        subprocess.run([AGENT_BIN, "user", "add", role, "--role", role, "--config", str(cfg)],
                       input=pw.encode() + b"\n", check=True, capture_output=True)


@contextmanager
def agent_process(tmp: Path, extra_config: str = "", args: list[str] | None = None
                  ) -> Iterator[AgentProc]:
    """A real agent (`flypack-agent serve`) on a free loopback port, with users of every role."""
    port = free_port()
    cfg = write_config(tmp, port, extra_config)
    add_users(cfg)
    log = tmp / "agent.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([AGENT_BIN, "serve", "--config", str(cfg), *(args or [])],
                                stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v1/health", proc=proc)
        yield AgentProc(url, cfg, tmp / "state", proc, log)
    except Exception:
        print(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop_process(proc)
