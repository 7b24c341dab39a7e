"""Which probe targets the agent's own process answers (an in-process simulator, a test).

A kernel-stamped RTT does not contain the agent's scheduling, with one exception: a responder
that runs on the agent's own event loop answers only when that loop runs, so the loop's lag
is in its RTT. :func:`own_endpoints` lists the UDP sockets and listening TCP sockets of this
process (``/proc/net/{udp,tcp}`` rows whose inode is one of ``/proc/self/fd``'s sockets), so
the probe service can tell those targets apart. Linux only; elsewhere the set is empty.
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

Endpoint = tuple[str, str, int]  # (kind "udp"|"tcp", IPv4 address, port)
_TCP_LISTEN = "0A"


def _own_socket_inodes(fd_dir: Path) -> set[str]:
    inodes: set[str] = set()
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _rows(table: Path) -> list[list[str]]:
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return []
    return [line.split() for line in lines]


def _ipv4(hex_addr: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(hex_addr, 16)))


def own_endpoints(proc: Path = Path("/proc")) -> set[Endpoint]:
    """Addresses and ports this process answers on: bound UDP sockets, listening TCP ones."""
    inodes = _own_socket_inodes(proc / "self" / "fd")
    found: set[Endpoint] = set()
    if not inodes:
        return found
    for kind in ("udp", "tcp"):
        for row in _rows(proc / "net" / kind):
            if len(row) < 10 or row[9] not in inodes:
                continue
            if kind == "tcp" and row[3] != _TCP_LISTEN:
                continue
            addr, _, port = row[1].partition(":")
            found.add((kind, _ipv4(addr), int(port, 16)))
    return found


def answers_itself(endpoints: set[Endpoint], kind: str, address: str, port: int) -> bool:
    """True when this process itself answers ``kind:port`` at ``address``."""
    return (kind, address, port) in endpoints or (kind, "0.0.0.0", port) in endpoints
