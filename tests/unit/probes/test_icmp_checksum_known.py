"""The ICMP checksum against answers computed by hand (RFC 1071), not by the code under test."""

from __future__ import annotations

from server_agent.probes import icmp


def test_rfc1071_worked_example() -> None:
    # RFC 1071 §3: 0001 + f203 + f4f5 + f6f7 = 2ddf0 -> ddf2 after the carry; complement 220d
    assert icmp.checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def test_odd_length_is_padded_with_a_zero_byte() -> None:
    # 0001 + f203 + f400 = 1e604 -> e605; complement 19fa
    assert icmp.checksum(bytes.fromhex("0001f203f4")) == 0x19FA


def test_echo_request_bytes_on_the_wire() -> None:
    # type 8 code 0, id 0x1234, seq 1, "abcdefgh": 0800+1234+0001+6162+6364+6566+6768 = 1abc9
    # -> abca after the carry; complement 5435
    assert icmp.echo_request(0x1234, 1, b"abcdefgh") == bytes.fromhex(
        "0800" "5435" "1234" "0001") + b"abcdefgh"
