"""The receiving socket: bind, IP_RECVTOS (DSCP of every datagram), multicast joins (ASM with
IP_ADD_MEMBERSHIP, IGMPv3 SSM with IP_ADD_SOURCE_MEMBERSHIP), interface choice; and the host's
IGMP memberships from ``/proc/net/igmp``.
"""

from __future__ import annotations

import errno
import fcntl
import socket
import struct
from pathlib import Path

from server_agent.video.udp.errors import JoinError, PortInUse
from server_agent.video.udp.url import StreamUrl

IP_RECVTOS = getattr(socket, "IP_RECVTOS", 13)
IP_ADD_SOURCE_MEMBERSHIP = getattr(socket, "IP_ADD_SOURCE_MEMBERSHIP", 39)
SIOCGIFADDR = 0x8915
RCVBUF = 4 * 1024 * 1024


def iface_address(iface: str) -> str:
    """An interface given by IPv4 address or by name -> its IPv4 address."""
    try:
        socket.inet_aton(iface)
        return iface
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            req = struct.pack("256s", iface.encode()[:15])
            return socket.inet_ntoa(fcntl.ioctl(s.fileno(), SIOCGIFADDR, req)[20:24])
        except OSError as exc:
            raise JoinError(f"interface {iface!r} has no IPv4 address or does not exist "
                            f"({exc.strerror}); check `ip -4 addr`") from None


def open_socket(url: StreamUrl) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        if url.multicast:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((url.address or "", url.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"UDP port {url.port} is in use by another program; stop it "
                                "or pick another port") from None
            raise PortInUse(f"cannot listen on {url}: {exc.strerror}") from None
        if url.multicast:
            _join(s, url)
        s.setblocking(False)
        return s
    except BaseException:
        s.close()
        raise


def _join(s: socket.socket, url: StreamUrl) -> None:
    assert url.address is not None
    group = socket.inet_aton(url.address)
    local = socket.inet_aton(iface_address(url.iface) if url.iface else "0.0.0.0")
    try:
        if url.source:  # struct ip_mreq_source: multiaddr, interface, sourceaddr
            mreq = group + local + socket.inet_aton(url.source)
            s.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, mreq)
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group + local)
    except OSError as exc:
        raise JoinError(f"cannot join {url.address}"
                        f"{' from ' + url.source if url.source else ''} on "
                        f"{url.iface or 'the default interface'}: {exc.strerror}; is there a "
                        "route for multicast (or pass ?iface=)?") from None


def igmp_memberships(path: Path = Path("/proc/net/igmp")) -> list[tuple[str, str]]:
    """(interface, group) the host has joined, from /proc/net/igmp (groups are little-endian
    hex there)."""
    out: list[tuple[str, str]] = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    iface = ""
    for line in lines[1:]:
        if not line.startswith(("\t", " ")):
            parts = line.split()  # "Idx\tDevice    : Count Querier": a 10-char name has the
            iface = parts[1].removesuffix(":") if len(parts) > 1 else ""  # colon attached
            continue
        token = line.split()[0]
        try:
            group = socket.inet_ntoa(struct.pack("<I", int(token, 16)))
        except (ValueError, struct.error):
            continue
        out.append((iface, group))
    return out
