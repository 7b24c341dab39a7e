"""Probes and alarms against real sockets on 127.0.0.1 (and real ICMP as root)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import cast

from server_agent.alarms.engine import AlarmEngine
from server_agent.config import AgentConfig, parse_config
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus
from server_agent.probes.service import ProbeService
from server_agent.store.db import Database
from tests.support import free_port, require_root

FAST_PROBES = {"interval_s": 0.1, "timeout_s": 0.08, "loss_window": 10}
FAST_ALARMS = {"unreachable_after": 3, "reachable_after": 3, "loss_raise_ratio": 0.2,
               "loss_clear_ratio": 0.0, "raise_after_s": 0.2, "clear_after_s": 0.2}


class Echo(asyncio.DatagramProtocol):
    """RFC 862 echo; with ``drop_every=2`` it drops every other datagram."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.drop_every = 0
        self.n = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.n += 1
        if self.drop_every and self.n % self.drop_every == 0:
            return
        assert self.transport is not None
        self.transport.sendto(data, addr)


@asynccontextmanager
async def udp_echo(port: int) -> AsyncIterator[Echo]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        Echo, local_addr=("127.0.0.1", port), reuse_port=True)
    try:
        yield proto
    finally:
        transport.close()


@contextmanager
def tcp_listener(port: int) -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)  # the kernel completes handshakes; nothing needs to accept
    try:
        yield s
    finally:
        s.close()


def _config(tmp: Path, probes: list[str], **alarms: object) -> AgentConfig:
    return parse_config({
        "agent": {"state_dir": str(tmp / "state"), "flypack": "fp-it"},
        "devices": [{"name": "dev-01", "address": "127.0.0.1", "probes": probes}],
        "probes": FAST_PROBES,
        "alarms": {**FAST_ALARMS, **alarms},
    })


class Agent:
    def __init__(self, cfg: AgentConfig, tmp: Path) -> None:
        self.bus = LiveBus()
        self.registry = DeviceRegistry(cfg.devices)
        self.db = Database(tmp / "agent.db")
        self.alarms = AlarmEngine(cfg.alarms, self.db, self.bus, self.registry, flypack="fp-it")
        self.probes = ProbeService(cfg, self.registry, self.bus)
        self.task: asyncio.Task[None] | None = None

    def status(self, probe: str) -> dict[str, object]:
        st = {s.probe: s for s in self.registry.probe_status("dev-01")}.get(probe)
        return st.model_dump() if st else {}

    def active_rules(self) -> set[str]:
        return {a.rule for a in self.alarms.active()}

    async def until(self, cond: Callable[[], bool], within: float = 3.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not cond():
            if loop.time() > deadline:
                raise AssertionError(f"condition not met within {within} s: "
                                     f"alarms={self.alarms.active()}")
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running(cfg: AgentConfig, tmp: Path) -> AsyncIterator[Agent]:
    agent = Agent(cfg, tmp)
    agent.task = asyncio.create_task(agent.probes.run())
    try:
        yield agent
    finally:
        agent.task.cancel()
        try:
            await agent.task
        except asyncio.CancelledError:
            pass
        agent.db.close()


async def test_udp_echo_tcp_connect_and_a_closed_port(tmp_path: Path) -> None:
    udp, tcp, closed = free_port(kind=socket.SOCK_DGRAM), free_port(), free_port()
    cfg = _config(tmp_path, [f"udp:{udp}", f"tcp:{tcp}", f"tcp:{closed}"])
    async with udp_echo(udp), running(cfg, tmp_path) as agent:
        with tcp_listener(tcp):
            await agent.until(lambda: (agent.probes.stats("dev-01", f"tcp:{closed}")
                                       or _Never).sent >= 5)
            u, t, c = (agent.status(p) for p in (f"udp:{udp}", f"tcp:{tcp}", f"tcp:{closed}"))
    # an RTT was measured (how small it is, is a figure for make bench, not a test)
    assert u["up"] is True and u["loss_ratio"] == 0.0 and float(str(u["rtt_ms"])) > 0
    assert t["up"] is True and t["loss_ratio"] == 0.0 and float(str(t["rtt_ms"])) > 0
    assert c["up"] is False and c["rtt_ms"] is None and c["loss_ratio"] == 1.0
    assert "refused" in (agent.probes.last_reason("dev-01", f"tcp:{closed}") or "")
    rtts = agent.bus.buffers[("flypack_probe_rtt_seconds", (
        ("device", "dev-01"), ("flypack", "fp-it"), ("probe", f"tcp:{closed}")))].fine
    assert rtts and all(v is None for _, v in rtts)


class _NeverStats:
    sent = 0


_Never = _NeverStats()


async def test_icmp_to_loopback(tmp_path: Path) -> None:
    require_root("raw ICMP socket")
    cfg = _config(tmp_path, ["icmp"])
    async with running(cfg, tmp_path) as agent:
        await agent.until(lambda: (agent.probes.stats("dev-01", "icmp") or _Never).sent >= 5)
        st = agent.status("icmp")
    assert st["error"] is None and st["up"] is True and st["loss_ratio"] == 0.0
    assert float(str(st["rtt_ms"])) > 0
    assert agent.alarms.active() == []


async def test_lossy_echo_raises_and_clears_the_loss_alarm(tmp_path: Path) -> None:
    port = free_port(kind=socket.SOCK_DGRAM)
    cfg = _config(tmp_path, [f"udp:{port}"])
    probe = f"udp:{port}"
    async with udp_echo(port) as echo, running(cfg, tmp_path) as agent:
        await agent.until(lambda: agent.status(probe).get("up") is True)
        echo.drop_every = 2
        await agent.until(lambda: "loss" in agent.active_rules())
        loss = agent.bus.latest("flypack_probe_loss_ratio",
                                {"flypack": "fp-it", "device": "dev-01", "probe": probe})
        assert loss is not None and 0.3 <= loss <= 0.7
        [alarm] = agent.alarms.active()
        assert alarm.key == f"loss/dev-01/{probe}" and "loses" in alarm.message
        assert "unreachable" not in agent.active_rules()  # never 3 lost in a row
        echo.drop_every = 0
        await agent.until(lambda: agent.alarms.active() == [])
        [row] = agent.alarms.query(active=False)
    assert row.cleared_at is not None and row.cleared_at > row.raised_at


async def test_stopping_the_echo_raises_unreachable_restarting_clears(tmp_path: Path) -> None:
    port = free_port(kind=socket.SOCK_DGRAM)
    cfg = _config(tmp_path, [f"udp:{port}"])
    async with running(cfg, tmp_path) as agent:
        async with udp_echo(port):
            await agent.until(lambda: agent.status(f"udp:{port}").get("up") is True)
        await agent.until(lambda: "unreachable" in agent.active_rules())
        [alarm] = agent.alarms.active()
        assert alarm.message.startswith(f"dev-01 does not answer udp:{port} (3 probes")
        async with udp_echo(port):
            await agent.until(lambda: "unreachable" not in agent.active_rules())
        assert agent.alarms.query(active=False)[0].key == f"unreachable/dev-01/udp:{port}"


async def test_tcp_listener_gone_raises_unreachable(tmp_path: Path) -> None:
    port = free_port()
    cfg = _config(tmp_path, [f"tcp:{port}"])
    async with running(cfg, tmp_path) as agent:
        with tcp_listener(port):
            await agent.until(lambda: agent.status(f"tcp:{port}").get("up") is True)
        await agent.until(lambda: "unreachable" in agent.active_rules())
        with tcp_listener(port):
            await agent.until(lambda: agent.alarms.active() == [])
