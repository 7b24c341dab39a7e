from __future__ import annotations

import socket
import struct
from typing import Any

import pytest

from server_agent.probes import icmp
from server_agent.probes.base import ICMP_HINT, ProbeUnavailable


def test_checksum_of_a_known_packet() -> None:
    pkt = icmp.echo_request(0x1234, 1, b"abcdefgh")
    assert icmp.checksum(pkt) == 0  # a packet with its checksum in place sums to 0
    assert pkt[0] == icmp.ECHO_REQUEST


async def test_no_raw_and_no_dgram_socket_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.socket

    def refuse(family: int = -1, type: int = -1, proto: int = -1, *a: Any) -> socket.socket:
        if proto == socket.IPPROTO_ICMP:
            raise PermissionError(1, "Operation not permitted")
        return real(family, type, proto, *a)

    monkeypatch.setattr(icmp.socket, "socket", refuse)
    with pytest.raises(ProbeUnavailable) as exc:
        icmp.IcmpProber().open()
    assert ICMP_HINT in str(exc.value)


async def test_replies_match_by_identifier_sequence_address_and_nonce() -> None:
    p = icmp.IcmpProber()
    p.raw = True
    import asyncio

    loop = asyncio.get_running_loop()
    p._loop = loop
    got: list[tuple[float | None, str | None]] = []

    class _Sock:
        def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
            return len(data)

    p._sock = _Sock()  # type: ignore[assignment]
    p.probe("127.0.0.9", 0, 5.0, lambda r, why: got.append((r, why)))
    seq = p._seq
    ip = bytes([0x45]) + bytes(19)

    def reply(ident: int, s: int, nonce: bytes) -> bytes:
        return ip + struct.pack("!BBHHH", icmp.ECHO_REPLY, 0, 0, ident, s) + nonce + bytes(8)

    p._handle(reply(p.ident ^ 1, seq, p._nonce), "127.0.0.9", 1e9)  # other identifier
    p._handle(reply(p.ident, seq + 1, p._nonce), "127.0.0.9", 1e9)  # other sequence
    p._handle(reply(p.ident, seq, p._nonce), "127.0.0.8", 1e9)  # other address
    p._handle(reply(p.ident, seq, bytes(8)), "127.0.0.9", 1e9)  # other nonce
    assert got == []
    p._handle(reply(p.ident, seq, p._nonce), "127.0.0.9", 1e9)
    assert len(got) == 1 and got[0][0] is not None and got[0][1] is None
    p._sock = None
    p.close()


async def test_datagram_socket_replies_have_no_ip_header_and_a_kernel_identifier() -> None:
    import asyncio

    p = icmp.IcmpProber()
    p.raw = False  # SOCK_DGRAM ICMP: the kernel sets the identifier and strips the IP header
    p._loop = asyncio.get_running_loop()
    got: list[float | None] = []

    class _Sock:
        def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
            return len(data)

    p._sock = _Sock()  # type: ignore[assignment]
    p.probe("127.0.0.9", 0, 5.0, lambda r, why: got.append(r))
    reply = struct.pack("!BBHHH", icmp.ECHO_REPLY, 0, 0, 4711, p._seq) + p._nonce + bytes(8)
    p._handle(reply, "127.0.0.9", 1e9)
    assert len(got) == 1 and got[0] is not None
    p._sock = None
    p.close()


async def test_an_icmp_error_ends_the_probe_early() -> None:
    import asyncio

    p = icmp.IcmpProber()
    p.raw = True
    p._loop = asyncio.get_running_loop()
    got: list[tuple[float | None, str | None]] = []

    class _Sock:
        def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
            return len(data)

    p._sock = _Sock()  # type: ignore[assignment]
    p.probe("127.0.0.9", 0, 5.0, lambda r, why: got.append((r, why)))
    orig_ip = bytes([0x45]) + bytes(15) + socket.inet_aton("127.0.0.9")
    orig = orig_ip + icmp.echo_request(p.ident, p._seq, p._nonce)[:8]
    outer = bytes([0x45]) + bytes(19) + struct.pack("!BBHI", icmp.DEST_UNREACH, 1, 0, 0) + orig
    p._handle(outer, "127.0.0.1", 1e9)
    assert got == [(None, "destination unreachable (reported by 127.0.0.1)")]
    p._sock = None
    p.close()
