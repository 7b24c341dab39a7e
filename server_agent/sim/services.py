"""The simulated devices' own services, all on one asyncio loop (no process per device).

    UDP echo (RFC 862)   every device, ``address:echo_port``; honours down / loss / latency
    TCP management       every device, ``address:tcp_port``: a banner line, then echoes lines
    HTTP status (JSON)   encoders and decoders, ``address:http_port``, ``GET /api/v1/status``;
                         encoders also ``POST /api/v1/output/restart`` (restarts the output)

A ``down`` device closes its TCP and HTTP listeners (connections are refused: on loopback a
SYN cannot be dropped without a firewall) and ignores echo requests. Latency delays echo
replies, the TCP banner and HTTP answers; the kernel's TCP handshake is not delayed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import zlib
from collections.abc import Callable
from typing import Any, cast

from server_agent.contract import DeviceRole
from server_agent.sim.faults import FaultBook
from server_agent.sim.model import SimDevice, SimPorts

log = logging.getLogger("flypack.sim.services")

MAX_ECHO = 64 * 1024  # bytes a TCP client may have echoed before it is closed
IDLE_S = 10.0
StatusFn = Callable[[SimDevice], dict[str, Any]]


class EchoProtocol(asyncio.DatagramProtocol):
    def __init__(self, device: str, faults: FaultBook) -> None:
        self.device = device
        self.faults = faults
        self.transport: asyncio.DatagramTransport | None = None
        self.answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDPTransport is not an asyncio.DatagramTransport subclass: no isinstance
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        t = self.transport
        if t is None or self.faults.lost(self.device):
            return
        delay = self.faults.get(self.device).latency_ms / 1000.0
        self.answered += 1
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._reply, data, addr)
        else:
            t.sendto(data, addr)

    def _reply(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)


class TcpMgmtProtocol(asyncio.Protocol):
    """The TCP management service: a banner line, then echo (bounded in bytes and time).
    A plain protocol, no task per connection: a 1 Hz connect probe of every device is cheap."""

    def __init__(self, owner: DeviceServices) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.echoed = 0
        self._timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.owner.conns.add(self)
        loop = asyncio.get_running_loop()
        delay = self.owner.faults.get(self.owner.dev.name).latency_ms / 1000.0
        if delay > 0:
            self._timers.append(loop.call_later(delay, self._banner))
        else:
            self._banner()
        self._timers.append(loop.call_later(IDLE_S, self.transport.close))

    def _banner(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            d = self.owner.dev
            k = d.kind
            self.transport.write(f"{d.name} {k.vendor} {k.model} {k.firmware} ready\r\n".encode())

    def data_received(self, data: bytes) -> None:
        if self.transport is None:
            return
        self.echoed += len(data)
        if self.echoed > MAX_ECHO:
            self.transport.close()
            return
        self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        for h in self._timers:
            h.cancel()
        self.owner.conns.discard(self)
        self.transport = None


class DeviceServices:
    """One device's listeners; :meth:`sync` opens or closes them to match its faults."""

    def __init__(self, dev: SimDevice, ports: SimPorts, faults: FaultBook,
                 status: StatusFn, restart: StatusFn | None = None) -> None:
        self.dev = dev
        self.ports = ports
        self.faults = faults
        self.status = status
        self.restart = restart  # POST /api/v1/output/restart (encoders)
        self.echo: EchoProtocol | None = None
        self.tcp: asyncio.Server | None = None
        self.http: asyncio.Server | None = None
        self._conns: set[asyncio.Task[Any]] = set()
        self.conns: set[TcpMgmtProtocol] = set()
        self._lock = asyncio.Lock()
        self._socks: list[socket.socket] = []

    def bind(self) -> None:
        """Bind the sockets now, before the loop serves them: the kernel already completes
        TCP handshakes and queues echo requests, so early probes see no false loss."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socks = [udp]
        try:
            udp.bind((self.dev.address, self.ports.echo))
            udp.setblocking(False)
            self._socks.append(_listen(self.dev.address, self.ports.tcp))
            if self.dev.http:
                self._socks.append(_listen(self.dev.address, self.ports.http))
        except OSError:
            self.close_sockets()
            raise

    def close_sockets(self) -> None:
        """Close sockets bound but not yet served."""
        for sock in self._socks:
            sock.close()
        self._socks = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._socks:
            self.bind()
        udp, tcp, *http = self._socks
        self._socks = []
        _, proto = await loop.create_datagram_endpoint(
            lambda: EchoProtocol(self.dev.name, self.faults), sock=udp)
        self.echo = proto
        self.tcp = await loop.create_server(lambda: TcpMgmtProtocol(self), sock=tcp)
        if http:
            self.http = await asyncio.start_server(self._http_client, sock=http[0])
        await self.sync()

    async def _open(self) -> None:
        if self.tcp is None:
            self.tcp = await asyncio.get_running_loop().create_server(
                lambda: TcpMgmtProtocol(self), self.dev.address, self.ports.tcp,
                reuse_address=True)
        if self.dev.http and self.http is None:
            self.http = await asyncio.start_server(self._http_client, self.dev.address,
                                                   self.ports.http, reuse_address=True)

    async def sync(self) -> None:
        """Open or close the TCP/HTTP listeners to match the device's ``down`` fault."""
        async with self._lock:
            try:
                if self.faults.get(self.dev.name).down:
                    await self._close_tcp()
                else:
                    await self._open()
            except OSError as exc:
                log.error("%s: cannot reopen its services: %s", self.dev.name, exc)

    async def _close_tcp(self) -> None:
        for srv in (self.tcp, self.http):
            if srv is not None:
                srv.close()
        self.tcp = self.http = None
        for task in list(self._conns):
            task.cancel()
        for proto in list(self.conns):
            if proto.transport is not None:
                proto.transport.abort()

    async def stop(self) -> None:
        self.close_sockets()
        await self._close_tcp()
        if self.echo is not None and self.echo.transport is not None:
            self.echo.transport.close()
        self.echo = None

    async def _delay(self) -> None:
        latency = self.faults.get(self.dev.name).latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000.0)

    def _track(self) -> asyncio.Task[Any] | None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
            task.add_done_callback(self._conns.discard)
        return task

    async def _http_client(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        self._track()
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("", "")
            await self._delay()
            if method == "GET" and path.split("?")[0] in ("/", "/api/v1/status"):
                code, body = "200 OK", self.status(self.dev)
            elif (method == "POST" and path == "/api/v1/output/restart"
                  and self.restart is not None and self.dev.role is DeviceRole.encoder):
                code, body = "200 OK", self.restart(self.dev)
            else:
                code, body = "404 Not Found", {"error": "not_found",
                                               "detail": f"no {method} {path}; try "
                                               "GET /api/v1/status"}
            data = json.dumps(body).encode()
            writer.write(f"HTTP/1.1 {code}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n"
                         f"Server: {self.dev.kind.vendor}-sim\r\n\r\n".encode() + data)
            await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


def _listen(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(64)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def base_status(dev: SimDevice, started: float) -> dict[str, Any]:
    seed = zlib.crc32(dev.name.encode())
    status: dict[str, Any] = {
        "device": dev.name, "vendor": dev.kind.vendor, "model": dev.kind.model,
        "firmware": dev.kind.firmware, "serial": f"SIM{seed % 10**8:08d}",
        "uptime_s": round(time.time() - started + seed % 864_000, 1), "time": time.time(),
    }
    if dev.role is DeviceRole.decoder:
        status["input"] = {"type": "udp", "state": "idle", "url": None, "bitrate_bps": 0}
        status["output"] = {"type": "SDI", "state": "active", "format": "1080i50"}
    else:
        status["input"] = {"type": "SDI", "state": "locked", "format": "1080i50"}
        status["output"] = {"state": "idle", "url": None, "bitrate_bps": 0}
    return status
