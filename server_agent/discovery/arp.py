"""ARP sweep of an on-link subnet with raw AF_PACKET frames (as arp-scan does).

Pinging tens of thousands of on-link addresses overflows the kernel's neighbour table; raw ARP
requests bypass it. One socket per interface, bound to ETH_P_ARP; replies are read by one
``add_reader`` callback and kept when they come from an address we asked for.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
import time
from collections.abc import Callable

from server_agent.discovery.errors import PrivilegeError
from server_agent.discovery.pacing import Pacer
from server_agent.discovery.targets import Interface

ETH_P_ARP = 0x0806
_BCAST = b"\xff" * 6
PRIV_HINT = ("an ARP sweep needs root or CAP_NET_RAW (the agent's systemd unit grants it); "
             "run as root, or sweep with the agent service")


def mac_str(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def packet_socket() -> socket.socket:
    """A raw AF_PACKET socket for ARP (needs CAP_NET_RAW)."""
    return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))


class ArpSweep:
    def __init__(self, iface: Interface) -> None:
        self.iface = iface
        self.found: dict[int, tuple[str, float]] = {}  # address -> (mac, rtt_s)
        self._wanted: set[int] = set()
        self._sent_at: dict[int, float] = {}
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self) -> None:
        try:
            sock = packet_socket()
        except PermissionError:
            raise PrivilegeError(PRIV_HINT) from None
        except OSError as exc:
            raise PrivilegeError(f"cannot open a raw ARP socket ({exc.strerror}); "
                                 + PRIV_HINT) from None
        try:
            sock.bind((self.iface.name, ETH_P_ARP))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _frame_head(self) -> bytes:
        m = self.iface.mac
        eth = _BCAST + m + struct.pack("!H", ETH_P_ARP)
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + m + self.iface.address.to_bytes(4, "big")
        return eth + arp + b"\0" * 6

    async def run(self, addresses: list[int], pacer: Pacer, wait_s: float, retries: int = 0,
                  progress: Callable[[int], None] = lambda n: None) -> dict[int, tuple[str, float]]:
        """Ask every address (at the pacer's rate), wait ``wait_s`` for late replies."""
        sock = self._sock
        if sock is None:
            raise RuntimeError("ArpSweep.open() was not called")
        self._wanted.update(addresses)
        head = self._frame_head()
        pending = addresses
        for attempt in range(retries + 1):
            i = 0
            while i < len(pending):
                n = await pacer.grant(min(256, len(pending) - i))
                now = time.perf_counter()
                for a in pending[i:i + n]:
                    self._sent_at.setdefault(a, now)
                    await self._send(sock, head + a.to_bytes(4, "big"))
                i += n
                if attempt == 0:
                    progress(n)
            await asyncio.sleep(wait_s)
            pending = [a for a in pending if a not in self.found]
            if not pending:
                break
        return self.found

    async def _send(self, sock: socket.socket, frame: bytes) -> None:
        for _ in range(200):  # bounded: ~0.2 s of a full transmit queue at most
            try:
                sock.send(frame)
                return
            except (BlockingIOError, InterruptedError):
                await asyncio.sleep(0.001)
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                await asyncio.sleep(0.001)

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        now = time.perf_counter()
        for _ in range(512):
            try:
                data = sock.recv(128)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(data) < 42 or data[12:14] != b"\x08\x06" or data[20:22] != b"\x00\x02":
                continue
            spa = int.from_bytes(data[28:32], "big")
            if spa in self._wanted and spa not in self.found:
                t0 = self._sent_at.get(spa, now)
                self.found[spa] = (mac_str(data[22:28]), max(0.0, now - t0))
