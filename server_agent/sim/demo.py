"""``flypack-agent demo``: the agent with a simulated flypack segment, in the foreground.

    run_demo(port, scale, state_dir)
      state dir (temp unless given) + config ([sim] enabled, plain HTTP on 127.0.0.1:port)
      user 'admin' with a fresh random password
      SimProcess.start()       ─ the segment in its own process (python -m server_agent.sim:
                                 snmpsim child, listeners, streams) on a free 127.x block, so
                                 that its devices do not answer from the agent's event loop
      serve(config, services)  ─ agent; /api/v1/sim/* forwarded to the simulator's control
                                 endpoint (RemoteSegment)
      on_ready(DemoInfo)       ─ hook for the lead's "render desktop screenshots" step
      Ctrl-C                   ─ uvicorn shuts down: Runtime.stop; then the simulator is
                                 stopped by its PID (it stops snmpsim by its PID); a temp
                                 state dir is removed

Exit codes: 0 after a clean stop, 2 when the port is in use or the simulator cannot start
(one line on stderr, the simulator's own words; its log is state dir/sim.log).
"""

from __future__ import annotations

import asyncio
import errno
import secrets
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from server_agent.config import AgentConfig, ConfigError, parse_config
from server_agent.contract import Role
from server_agent.sim.process import SimProcess

if TYPE_CHECKING:
    from server_agent.sim.control import SimControl

DEMO_USER = "admin"


@dataclass(frozen=True)
class DemoInfo:
    url: str
    username: str
    password: str
    state_dir: Path
    devices: int
    streams: int
    notes: tuple[str, ...] = ()


ReadyHook = Callable[[DemoInfo], Awaitable[None] | None]


def on_ready_default(info: DemoInfo) -> None:
    """Where the lead adds "render desktop screenshots" once the agent is up (no-op now)."""


def _port_free(port: int) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on 127.0.0.1 is in use; stop the other process or " \
                       "pick another port with --port"
            return f"cannot listen on 127.0.0.1:{port}: {exc.strerror}"
    return None


def demo_config(port: int, scale: str, state_dir: Path,
                history_url: str | None = None) -> AgentConfig:
    return parse_config({
        "agent": {"flypack": "flypack-demo", "listen": "127.0.0.1", "port": port,
                  "state_dir": str(state_dir)},
        "sim": {"enabled": True, "scale": scale},
        "history": {"victoriametrics_url": history_url} if history_url else {},
    }, "<demo>")


def banner(info: DemoInfo) -> str:
    """What the demo prints once it is up. The shell lines run as printed once the `export`
    line is pasted (tests/journeys/test_docs_run.py runs them); the README's API tour uses the
    same two variables."""
    u = info.url
    auth = '-H "Authorization: Bearer $TOKEN"'
    login = ('TOKEN=$(curl -fsS "$FLYPACK_URL/api/v1/auth/login" '
             "-H 'content-type: application/json' "
             f'-d "{{\\"username\\":\\"{info.username}\\",'
             '\\"password\\":\\"$FLYPACK_PASSWORD\\"}" '
             "| python3 -c 'import sys, json; print(json.load(sys.stdin)[\"access_token\"])')")
    lines = [
        "",
        "flypack demo is up",
        f"  agent:     {u}   (API docs: {u}/docs)",
        f"  login:     user {info.username}   password {info.password}",
        f"  simulated: {info.devices} devices, {info.streams} streams "
        f"(list: GET {u}/api/v1/sim/devices)",
        f"  state dir: {info.state_dir}",
        f"  alarms:    one line below per change (the engine's log: "
        f"{info.state_dir / 'alarms.log'})",
        *(f"  note:      {n}" for n in info.notes),
        "",
        "in a shell, paste these two lines first (the README's API tour uses them too):",
        f"  export FLYPACK_URL={shlex.quote(u)} FLYPACK_PASSWORD={shlex.quote(info.password)}",
        f"  {login}",
        "",
        "inject a fault (20 % loss and 50 ms latency on enc-01), then clear it:",
        f'  curl -fsS -X PUT "$FLYPACK_URL/api/v1/sim/faults/enc-01" {auth} '
        "-H 'content-type: application/json' -d '{\"loss_ratio\": 0.2, \"latency_ms\": 50}'",
        f'  curl -fsS -X DELETE "$FLYPACK_URL/api/v1/sim/faults" {auth}',
        "",
        "a stream's path and its first failing hop (a fault on rtr-01 or link-01 moves it):",
        f'  curl -fsS "$FLYPACK_URL/api/v1/streams/sim-enc-01" {auth}',
        "",
        "Ctrl-C to stop",
        "",
    ]
    return "\n".join(lines)


async def _wait_up(url: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            try:
                await client.get(f"{url}/api/v1/health")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise TimeoutError(f"the agent did not answer at {url} within {within_s:.0f} s")


async def _run(config: AgentConfig, password: str, on_ready: ReadyHook,
               sim: SimControl | None = None) -> None:
    from server_agent.runtime import build_services
    from server_agent.server import serve

    svc = build_services(config, sim)  # sim: the simulator process's RemoteSegment
    from server_agent.sim.demo_summary import attach_summary

    summary = attach_summary(svc, config.agent.state_dir)  # one terminal line per change
    if DEMO_USER in {name for name, _ in svc.auth.users()}:
        svc.auth.set_password(DEMO_USER, password)
    else:
        svc.auth.add_user(DEMO_USER, Role.admin, password)
    seg = svc.sim
    assert seg is not None
    server = asyncio.create_task(serve(config, svc), name="agent")
    url = f"http://127.0.0.1:{config.agent.port}"
    up = asyncio.create_task(_wait_up(url))
    await asyncio.wait({server, up}, return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        up.cancel()
        await server  # raises why it stopped
        return
    await up
    try:
        await asyncio.wait_for(seg.ready.wait(), 60)
    except TimeoutError:
        pass
    info = DemoInfo(url=url, username=DEMO_USER, password=password,
                    state_dir=config.agent.state_dir, devices=len(seg.devices),
                    streams=len(seg.senders), notes=tuple(seg.notes))
    print(banner(info), flush=True)
    try:
        res = on_ready(info)
        if asyncio.iscoroutine(res):
            await res
        await server
    finally:
        summary.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(port: int, scale: str, state_dir: str | Path | None,
             on_ready: ReadyHook = on_ready_default, history_url: str | None = None) -> int:
    from server_agent.cli import CliError

    if why := _port_free(port):
        print(f"flypack-agent: {why}", file=sys.stderr)
        return 2
    # uvicorn shuts down on SIGINT/SIGTERM and then re-raises the signal: make SIGTERM end
    # like Ctrl-C (KeyboardInterrupt below) so that the temp state dir is removed too
    signal.signal(signal.SIGTERM, _interrupt)
    temp = state_dir is None
    sdir = Path(tempfile.mkdtemp(prefix="flypack-demo-")) if temp else Path(str(state_dir))
    sdir.mkdir(parents=True, exist_ok=True)
    sim: SimProcess | None = None
    try:
        config = demo_config(port, scale, sdir, history_url)
        # the simulated devices answer from their own process (design §9), on a free block
        sim = SimProcess(config.sim, sdir / "sim.log")
        ready = sim.start()  # SimError (a ConfigError) with the simulator's own words
        config = config.model_copy(update={"sim": config.sim.model_copy(
            update={"base_address": ready.base_address})})
        asyncio.run(_run(config, secrets.token_urlsafe(12), on_ready, sim.remote()))
    except (CliError, ConfigError) as exc:  # the port was taken in between, the sim failed
        print(f"flypack-agent: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if sim is not None:
            sim.stop()  # by its PID
        if temp:
            shutil.rmtree(sdir, ignore_errors=True)
    print("flypack demo stopped", flush=True)
    return 0
