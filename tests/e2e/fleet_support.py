"""Shared by the desktop e2e tests: a TLS agent with the simulated segment (restartable on the
same port), and running a scenario coroutine on a qasync loop with timed waits."""

from __future__ import annotations

import asyncio
import random
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import qasync

from desktop.ui.qt import QApplication, QWidget
from tests.support import (
    AGENT_BIN,
    PASSWORDS,
    ROOT,
    add_users,
    free_port,
    stop_process,
    wait_http,
)

SHOTS = ROOT / "docs" / "screenshots"


class Window(Protocol):
    def shutdown(self) -> Awaitable[None]: ...


async def until(cond: Callable[[], object], limit_s: float, what: str,
                explain: Callable[[], str] = lambda: "") -> float:
    """Wait (on the loop) until ``cond()``; fail saying what was missing. Seconds taken."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > limit_s:
            pytest.fail(f"timed out after {limit_s} s waiting for {what}. {explain()}")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def run_loop(qapp: QApplication, window: Window,
             scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """One qasync loop for the scenario, closed (and unset) afterwards, also on failure: the
    next test in this process starts from no loop at all."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(window.shutdown())
        loop.close()
        asyncio.set_event_loop(None)


async def shot(w: QWidget, name: str) -> None:
    # never QApplication.processEvents() in a coroutine: the nested loop re-enters qasync
    # ("Cannot enter into task") and the interrupted tasks hang for good
    await asyncio.sleep(0.3)
    assert w.grab().save(str(SHOTS / name)), name


def sim_toml(streams: int) -> str:
    base = f"127.{random.randint(100, 250)}.0.0"  # never the demo's 127.77
    return (f'\n[sim]\nenabled = true\nbase_address = "{base}"\nsnmp = false\n'
            f"echo_port = 17007\ntcp_port = 18023\nhttp_port = 18080\nstreams = {streams}\n"
            f"stream_mbps = 1.0\n[probes]\ninterval_s = 0.5\ntimeout_s = 0.3\n")


@dataclass
class TlsAgent:
    tmp: Path
    port: int
    config: Path
    fingerprint: str
    proc: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.tmp / f"agent-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as fh:
            self.proc = subprocess.Popen([AGENT_BIN, "serve", "--config", str(self.config)],
                                         stdout=fh, stderr=subprocess.STDOUT)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        wait_http(f"{self.url}/api/v1/health", timeout=60, proc=self.proc, verify=ctx)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def log_tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in self.logs)

    def http(self, role: str = "operator") -> httpx.Client:
        c = httpx.Client(base_url=self.url + "/api/v1", verify=False, timeout=10)
        r = c.post("/auth/login", json={"username": role, "password": PASSWORDS[role]})
        r.raise_for_status()
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return c


def make_cert(tmp: Path, name: str) -> tuple[Path, Path, str]:
    cert, key = tmp / f"{name}.pem", tmp / f"{name}.key"
    out = subprocess.run([AGENT_BIN, "cert", "create", "--cert", str(cert), "--key", str(key),
                          "--host", "127.0.0.1", "--force"],
                         check=True, capture_output=True, text=True)
    fp = out.stdout.rsplit("SHA-256 fingerprint:", 1)[1].strip()
    return cert, key, fp


@contextmanager
def tls_sim_agent(tmp: Path, streams: int = 2, flypack: str = "flypack-north"
                  ) -> Iterator[TlsAgent]:
    tmp.mkdir(parents=True, exist_ok=True)
    cert, key, fp = make_cert(tmp, "agent")
    port = free_port()
    cfg = tmp / "agent.toml"
    cfg.write_text(f'[agent]\nflypack = "{flypack}"\nlisten = "127.0.0.1"\nport = {port}\n'
                   f'state_dir = "{tmp / "state"}"\ntls_cert = "{cert}"\ntls_key = "{key}"\n'
                   + sim_toml(streams))
    work = Path(tempfile.mkdtemp(prefix="flypack-jobs-"))  # the playbook user must enter it
    work.chmod(0o755)
    with cfg.open("a") as fh:
        fh.write(f'[jobs]\nwork_dir = "{work}"\n')
    add_users(cfg)
    agent = TlsAgent(tmp, port, cfg, fp)
    try:
        agent.start()
        yield agent
    except Exception:
        print(agent.log_tail())
        raise
    finally:
        agent.stop()
        shutil.rmtree(work, ignore_errors=True)
