"""The simulated segment takes a free 127.x block, or says why it cannot (finding 7)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from server_agent.sim.segment import SimBlockBusy, SimError, SimulatedSegment, bind_free_block
from tests.sim_support import sim_section


def _close(seg: SimulatedSegment) -> None:
    for svc in seg.services.values():
        svc.close_sockets()


def _next_block(base: str) -> str:
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(base)) + 65536))


def test_a_taken_block_moves_the_segment_to_the_next_free_one() -> None:
    cfg = sim_section()
    first = SimulatedSegment(cfg)
    first.bind()  # another simulator on the block
    try:
        with pytest.raises(SimBlockBusy):
            SimulatedSegment(cfg).bind()  # what two demos did before: the second died
        seg = bind_free_block(cfg, blocks=3)
        try:
            nxt = _next_block(cfg.base_address)
            assert seg.cfg.base_address == nxt
            net = ipaddress.ip_network(f"{nxt}/16")
            assert seg.services and all(ipaddress.ip_address(d.address) in net
                                        for d in seg.devices)
            assert all(ipaddress.ip_address(s.address) in net for s in seg.device_sections())
            assert any(cfg.base_address in n and nxt in n for n in seg.notes), seg.notes
        finally:
            _close(seg)
    finally:
        _close(first)


def test_a_free_block_is_kept_without_a_note() -> None:
    cfg = sim_section()
    seg = bind_free_block(cfg, blocks=3)
    try:
        assert seg.cfg.base_address == cfg.base_address and not seg.notes
    finally:
        _close(seg)


def test_no_free_block_says_why_in_one_line() -> None:
    cfg = sim_section()
    enc = SimulatedSegment(cfg).by_name["enc-01"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind((enc.address, SimulatedSegment(cfg).ports.echo))  # one port is enough
        with pytest.raises(SimError) as err:
            bind_free_block(cfg, blocks=1)
    msg = str(err.value)
    assert not isinstance(err.value, SimBlockBusy)
    assert "\n" not in msg and "no free address block" in msg and cfg.base_address in msg
    assert f"enc-01 on {enc.address}" in msg and "stop another demo" in msg


def test_blocks_never_run_past_127_255() -> None:
    cfg = sim_section(base_address="127.255.0.0")
    seg = bind_free_block(cfg, blocks=16)  # 127.255 is free here: taken, nothing beyond
    _close(seg)
    enc = seg.by_name["enc-01"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind((enc.address, seg.ports.echo))
        with pytest.raises(SimError, match=r"127\.255\.0\.0 is in use"):
            bind_free_block(cfg, blocks=16)
