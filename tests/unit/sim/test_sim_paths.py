"""The simulated streams' paths: encoder -> switch -> router -> link -> agent, and faults of
every hop on the way hitting the stream's datagrams."""

from __future__ import annotations

import socket

from server_agent.config import SimSection
from server_agent.contract import SimFault
from server_agent.sim.faults import FaultBook
from server_agent.sim.model import build_devices, stream_links
from server_agent.sim.streamer import StreamSender
from server_agent.sim.ts import TS, Clip
from server_agent.video.paths import validate_path


def test_streams_have_paths_through_the_segment_s_own_devices() -> None:
    devs = build_devices(SimSection(enabled=True, streams=3))
    names = {d.name for d in devs}
    specs = [d.stream for d in devs if d.stream]
    assert [(s.device, s.via, s.link) for s in specs] == [
        ("enc-01", ("sw-01", "rtr-01"), "link-01"),
        ("enc-02", ("sw-02", "rtr-02"), "link-02"),
        ("enc-03", ("sw-01", "rtr-03"), "link-03")]
    assert stream_links(devs) == ["link-01", "link-02", "link-03"]
    hops = specs[0].path()
    assert [(h.name, h.kind, h.device, h.leg) for h in hops] == [
        ("enc-01", "device", "enc-01", None), ("sw-01", "device", "sw-01", None),
        ("rtr-01", "device", "rtr-01", None), ("link-01", "link", None, 1),
        ("agent", "analysis", None, 1)]
    assert {h.device for h in hops if h.device} <= names
    from server_agent.contract import PathHop

    validate_path([PathHop(name=h.name, kind=h.kind, device=h.device, leg=h.leg)
                   for h in hops], 1, known=names.__contains__)


def sent_after(fault_on: str | None, fault: SimFault) -> tuple[int, int]:
    spec = next(d.stream for d in build_devices(SimSection(enabled=True, streams=1)) if d.stream)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    spec = spec.__class__(**{**{f: getattr(spec, f) for f in spec.__slots__},
                             "address": "127.0.0.1", "port": rx.getsockname()[1]})
    book = FaultBook(["enc-01", "sw-01", "rtr-01", "link-01"], ["enc-01"])
    if fault_on is not None:
        book.set(fault_on, fault)
    null = b"\x47\x1f\xff\x10" + b"\xff" * (TS - 4)
    tx = StreamSender(spec, "127.0.0.1", Clip(null * 70, 1_000_000), 1.0, book)
    try:
        tx.open(0.0)
        tx.pump(0.5, 0.5)  # 0.5 s at 1 Mb/s: ~47 datagrams, bounded by MAX_BURST
    finally:
        tx.close()
        rx.close()
    return tx.datagrams, tx.datagrams_lost


def test_faults_on_the_path_hit_the_stream() -> None:
    sent, lost = sent_after(None, SimFault())
    assert sent > 0 and lost == 0
    for hop in ("sw-01", "rtr-01", "link-01"):
        sent, lost = sent_after(hop, SimFault(down=True))
        assert sent == 0 and lost > 0, hop
    sent, lost = sent_after("link-01", SimFault(loss_ratio=0.5))
    assert sent > 0 and lost > 0
