"""Real sockets on loopback: the RTT is what the network took, not how late the agent's loop
ran (issue 14, finding 4). Each test blocks the event loop right after the probe left, the
way a busy host starves the agent, and checks that the measured RTT does not contain it."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest

from server_agent.config import parse_config
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus, Sample
from server_agent.probes.base import (
    ANC_SPACE,
    Done,
    Prober,
    enable_rx_timestamps,
    rx_timestamp,
)
from server_agent.probes.icmp import IcmpProber
from server_agent.probes.icmp import echo_request as icmp_echo_request
from server_agent.probes.local import answers_itself, own_endpoints
from server_agent.probes.service import ProbeService
from server_agent.probes.tcp import TcpConnectProber
from server_agent.probes.udp import UdpEchoProber
from tests.support import free_port, require_root

BLOCK_S = 0.5  # the agent's loop starved this long while the reply waited in the socket


@contextmanager
def echo_thread() -> Iterator[int]:
    """A UDP echo answering at once from its own thread (it runs while the loop is blocked:
    time.sleep releases the GIL), bounded by a stop flag and a receive time-out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(2048)
            except TimeoutError:
                continue
            sock.sendto(data, addr)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        t.join(2)
        sock.close()


async def _probe_while_starved(prober: Prober, address: str,
                               port: int) -> tuple[float | None, str | None]:
    prober.open()
    got: asyncio.Future[tuple[float | None, str | None]] = \
        asyncio.get_running_loop().create_future()
    try:
        prober.probe(address, port, 2.0, lambda rtt, why: got.set_result((rtt, why)))
        time.sleep(BLOCK_S)  # noqa: ASYNC251 - on purpose: the agent starved, the reply waits
        return await asyncio.wait_for(got, 5.0)
    finally:
        prober.close()


async def test_udp_rtt_is_the_kernels_not_the_agents_wake_up() -> None:
    with echo_thread() as port:
        prober = UdpEchoProber()
        rtt, why = await _probe_while_starved(prober, "127.0.0.1", port)
    assert prober.kernel_stamps
    assert why is None and rtt is not None
    assert rtt < BLOCK_S / 2, f"{rtt * 1000:.1f} ms: the agent's own delay was counted"


async def test_tcp_rtt_is_the_kernels_handshake_not_the_agents_wake_up() -> None:
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen(8)  # the kernel completes the handshake
        rtt, why = await _probe_while_starved(TcpConnectProber(), "127.0.0.1", port)
    assert why is None and rtt is not None
    assert rtt < BLOCK_S / 2, f"{rtt * 1000:.1f} ms: the agent's own delay was counted"


async def test_icmp_rtt_is_the_kernels_not_the_agents_wake_up() -> None:
    require_root("raw ICMP socket")
    rtt, why = await _probe_while_starved(IcmpProber(), "127.0.0.1", 0)
    assert why is None and rtt is not None
    assert rtt < BLOCK_S / 2, f"{rtt * 1000:.1f} ms: the agent's own delay was counted"


async def test_the_agent_knows_which_targets_it_answers_itself() -> None:
    """An in-process responder (a simulator on the agent's loop) is delayed by the loop:
    only for those does the agent's starvation count against the RTT."""
    loop = asyncio.get_running_loop()
    port = free_port(kind=socket.SOCK_DGRAM)
    transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                       local_addr=("127.0.0.1", port))
    tcp_port = free_port()
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", tcp_port)
    try:
        mine = own_endpoints()
        assert answers_itself(mine, "udp", "127.0.0.1", port)
        assert answers_itself(mine, "tcp", "127.0.0.1", tcp_port)
        assert not answers_itself(mine, "udp", "127.0.0.1", free_port(kind=socket.SOCK_DGRAM))
    finally:
        transport.close()
        server.close()
        await server.wait_closed()


@pytest.fixture(scope="module", autouse=True)
def _kernel_stamping_on() -> Iterator[None]:
    """Linux turns receive timestamping on for the whole host only after the first socket
    asks for it, in deferred work (``net_enable_timestamp``), and off again, deferred, when
    the last such socket closes. A datagram that arrives in between gets the time it was
    *read* as its stamp, which would put the block back into the RTT. The agent holds its
    sockets for its whole life, so only its first probes can meet that; these tests open
    and close probers one after another, so one stamped socket is kept open for the module
    and the tests start once a stamp is seen to be the arrival's, not the read's."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        assert enable_rx_timestamps(sock), "SO_TIMESTAMPNS refused"
        for _ in range(100):  # bounded: 100 datagrams to itself, about 2 s
            sock.sendto(b"stamp?", sock.getsockname())
            time.sleep(0.02)
            _, anc, _, _ = sock.recvmsg(64, ANC_SPACE)
            read_at, stamp = time.time(), rx_timestamp(anc)
            if stamp is not None and read_at - stamp >= 0.015:
                break
        else:
            pytest.fail("the kernel never stamped a datagram on arrival (SO_TIMESTAMPNS)")
        yield


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    for t in set(threading.enumerate()) - before:
        t.join(2)  # asyncio's child watcher reaps a killed subprocess from its own thread
        assert not t.is_alive(), f"thread {t.name} outlived its test"


class _StarvingUdp(UdpEchoProber):
    """Blocks the event loop right after each probe left, as a busy host starves the agent."""

    def probe(self, address: str, port: int, timeout: float, done: Done) -> None:
        super().probe(address, port, timeout, done)
        asyncio.get_running_loop().call_soon(time.sleep, 0.06)


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(data, addr)


async def _starved_results(tmp_path: Path, port: int) -> dict[str, list[float | None]]:
    cfg = parse_config({
        "agent": {"state_dir": str(tmp_path / "state"), "flypack": "fp-it"},
        "devices": [{"name": "dev-01", "address": "127.0.0.1", "probes": [f"udp:{port}"]}],
        "probes": {"interval_s": 0.2, "timeout_s": 0.15, "starved_lag_ms": 5},
    })
    bus = LiveBus()
    seen: dict[str, list[float | None]] = {}
    enough = asyncio.Event()

    def listen(s: Sample) -> None:
        seen.setdefault(s.series, []).append(s.v)
        if len(seen.get("flypack_probe_rtt_seconds", [])) >= 6:
            enough.set()

    bus.add_sample_listener(listen)
    svc = ProbeService(cfg, DeviceRegistry(cfg.devices), bus, {"udp": _StarvingUdp()})
    task = asyncio.create_task(svc.run())
    try:
        await asyncio.wait_for(enough.wait(), 30)
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    return seen


async def test_an_in_process_responders_delay_is_owed_to_the_starved_agent(
        tmp_path: Path) -> None:
    """The demo's simulator on the agent's own loop answers only when the loop runs: its
    RTT then contains the agent's starvation, and the result says how much."""
    loop = asyncio.get_running_loop()
    port = free_port(kind=socket.SOCK_DGRAM)
    transport, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", port))
    try:
        seen = await _starved_results(tmp_path, port)
    finally:
        transport.close()
    rtts = [v for v in seen["flypack_probe_rtt_seconds"] if v is not None]
    starved = [v for v in seen["flypack_probe_starved_seconds"] if v is not None]
    assert min(rtts) >= 0.05  # the echo waited for the loop
    assert min(starved) >= 0.02  # ... and the agent knows it was starved meanwhile
    assert (seen["flypack_probe_held_total"][-1] or 0) >= 3  # kept out of the baseline


ECHO_PROCESS = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
end = time.monotonic() + 60
while time.monotonic() < end:
    try:
        data, addr = s.recvfrom(2048)
    except TimeoutError:
        continue
    s.sendto(data, addr)
"""


async def test_another_processes_answer_is_not_owed_to_the_agent_but_still_held(
        tmp_path: Path) -> None:
    port = free_port(kind=socket.SOCK_DGRAM)
    echo = await asyncio.create_subprocess_exec(sys.executable, "-c", ECHO_PROCESS, str(port))
    try:
        await asyncio.sleep(0.5)  # let it bind (it answers from then on; loss is no issue)
        seen = await _starved_results(tmp_path, port)
    finally:
        echo.kill()  # by PID
        await asyncio.wait_for(echo.wait(), 10)
    rtts = [v for v in seen["flypack_probe_rtt_seconds"] if v is not None]
    assert min(rtts) < 0.03  # kernel stamps: the 60 ms the loop was blocked after every
    # probe are not in it; the answer came from another process, so none is owed to the agent
    assert set(seen["flypack_probe_starved_seconds"]) <= {0.0, None}
    assert (seen["flypack_probe_held_total"][-1] or 0) >= 3  # but taken while starved


async def test_other_pings_on_the_host_never_reach_the_icmp_probe_socket() -> None:
    """Every raw ICMP socket sees every echo reply of the host: another prober's or a
    sweep's replies would fill ours while the agent is starved, and its own replies would be
    read too late or dropped. The kernel filters them out by our identifier."""
    require_root("raw ICMP socket")
    prober = IcmpProber()
    prober.open()
    other = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        assert prober._sock is not None and prober.raw
        for seq in range(20):  # someone else's pings: another identifier
            other.sendto(icmp_echo_request(prober.ident ^ 0x5A5A, seq, b"other"),
                         ("127.0.0.1", 0))
        other.settimeout(2.0)
        other.recv(2048)  # the replies exist (the other socket sees them)
        with pytest.raises(BlockingIOError):
            prober._sock.recv(2048)
    finally:
        other.close()
        prober.close()
