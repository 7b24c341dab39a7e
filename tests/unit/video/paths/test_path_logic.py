"""The pure path logic: each hop kind failing, nothing failing, unknown devices, a fault
downstream only, source attribution of TS errors, SRT figures, the hold against flicker."""

from __future__ import annotations

from server_agent.contract import (
    Device,
    DeviceRole,
    PathHop,
    ProbeStatus,
    SrtLegStats,
    StreamLegStatus,
    device_state,
)
from server_agent.video.paths import PathTracker, StreamFigures

PATH = [PathHop(name="enc", kind="device", device="enc-01"),
        PathHop(name="sw", kind="device", device="sw-01"),
        PathHop(name="wan", kind="link", leg=1),
        PathHop(name="agent", kind="analysis", leg=1)]


def probe(name: str, up: bool = True, loss: float = 0.0) -> ProbeStatus:
    return ProbeStatus(probe=name, up=up, rtt_ms=1.0, jitter_ms=0.1, loss_ratio=loss)


def dev(name: str, *probes: ProbeStatus) -> Device:
    ps = list(probes) or [probe("udp:7"), probe("tcp:23")]
    return Device(id=name, name=name, role=DeviceRole.switch, address="127.0.0.2",
                  state=device_state(ps), probes=ps)


def healthy() -> dict[str, Device]:
    return {"enc-01": dev("enc-01"), "sw-01": dev("sw-01")}


def leg(up: bool = True, rtp_lost: int | None = None, srt: SrtLegStats | None = None,
        datagrams: int = 100) -> StreamLegStatus:
    return StreamLegStatus(url="udp://@:5000", up=up, datagrams=datagrams if up else 0,
                           rtp_lost=rtp_lost, srt=srt)


def fig(*legs: StreamLegStatus, active: dict[str, str] | None = None, cc: int = 0,
        error: str | None = None) -> StreamFigures:
    return StreamFigures(legs=list(legs) or [leg()], active=active or {},
                         counts={"continuity_count_error": cc}, error=error)


def run(devices: dict[str, Device], *figs: StreamFigures, path: list[PathHop] = PATH,
        start: float = 100.0) -> tuple[dict[str, str], str | None, PathTracker]:
    tr = PathTracker(hold_s=5.0)
    res = None
    for i, f in enumerate(figs):  # one evaluation a second; the first sets the marks
        res = tr.evaluate(path, f, devices.get, start + i)
    assert res is not None
    return {h.name: h.state for h in res.hops}, res.first_failing, tr


def test_nothing_failing() -> None:
    states, first, _ = run(healthy(), fig(), fig())
    assert states == {"enc": "ok", "sw": "ok", "wan": "ok", "agent": "ok"} and first is None


def test_source_device_down_explains_everything_after_it() -> None:
    devs = healthy()
    devs["enc-01"] = dev("enc-01", probe("udp:7", up=False), probe("tcp:23", up=False))
    silent = fig(leg(up=False), active={"no_signal": "no datagrams on leg 1"})
    tr = PathTracker()
    tr.evaluate(PATH, silent, devs.get, 100.0)
    res = tr.evaluate(PATH, silent, devs.get, 103.0)  # past the first-datagram grace
    states = {h.name: h.state for h in res.hops}
    assert states == {"enc": "failing", "sw": "ok", "wan": "caused_upstream",
                      "agent": "caused_upstream"}
    assert res.first_failing == "enc" and res.upstream_of_analysis
    enc = res.hops[0]
    assert "does not answer its probes" in enc.reasons[0]
    assert res.hops[2].reasons == ["no datagrams on leg 1", "caused upstream: enc fails first"]


def test_middle_device_with_loss_fails_first() -> None:
    devs = healthy()
    devs["sw-01"] = dev("sw-01", probe("udp:7", loss=0.25), probe("tcp:23"))
    states, first, _ = run(devs, fig(cc=0), fig(cc=12, active={
        "continuity_count_error": "TR 101 290 continuity_count_error: 12 in the last second"}))
    assert first == "sw"
    assert states == {"enc": "ok", "sw": "failing", "wan": "caused_upstream",
                      "agent": "caused_upstream"}


def test_link_fails_first_on_plain_udp_continuity_errors() -> None:
    ts = {"continuity_count_error": "TR 101 290 continuity_count_error: 5 in the last second"}
    states, first, _ = run(healthy(), fig(cc=3), fig(cc=8, active=ts))
    assert first == "wan"
    assert states == {"enc": "ok", "sw": "ok", "wan": "failing", "agent": "caused_upstream"}


def test_rtp_link_loss_fails_the_link() -> None:
    ts = {"rtp_loss": "RTP packets lost on leg 1"}
    states, first, _ = run(healthy(), fig(leg(rtp_lost=4)), fig(leg(rtp_lost=9), active=ts))
    assert first == "wan" and states["agent"] == "caused_upstream"


def test_analysis_only_fault_downstream() -> None:
    bitrate = {"bitrate": "bitrate 1.00 Mb/s outside the expected range"}
    states, first, _ = run(healthy(), fig(), fig(active=bitrate))
    assert first == "agent"
    assert states == {"enc": "ok", "sw": "ok", "wan": "ok", "agent": "failing"}


def test_unknown_device_is_unknown_and_does_not_break_the_chain() -> None:
    devs = {"enc-01": dev("enc-01")}
    tr = PathTracker()
    res = tr.evaluate(PATH, fig(cc=0), devs.get, 1.0)
    sw = res.hops[1]
    assert sw.state == "unknown" and sw.reasons == ["no device 'sw-01' in the inventory"]
    res = tr.evaluate(PATH, fig(cc=4), devs.get, 2.0)
    assert res.first_failing == "wan"


def test_device_without_probe_results_is_unknown() -> None:
    devs = healthy()
    devs["sw-01"] = Device(id="sw-01", name="sw-01", role=DeviceRole.switch,
                           address="127.0.0.3")
    states, first, _ = run(devs, fig(), fig())
    assert states["sw"] == "unknown" and first is None


def test_transport_error_is_the_source_s_even_on_plain_udp() -> None:
    ts = {"transport_error": "TR 101 290 transport_error: 5 in the last second",
          "continuity_count_error": "TR 101 290 continuity_count_error: 20 in the last second"}
    tr = PathTracker()
    tr.evaluate(PATH, fig(cc=0), healthy().get, 1.0)
    res = tr.evaluate(PATH, fig(cc=20, active=ts), healthy().get, 2.0)
    assert res.first_failing == "enc"
    assert "transport_error" in res.hops[0].reasons[0]
    assert [h.state for h in res.hops] == ["failing", "ok", "caused_upstream",
                                           "caused_upstream"]


def test_ts_errors_on_a_clean_rtp_leg_are_the_source_s() -> None:
    ts = {"continuity_count_error": "TR 101 290 continuity_count_error: 3 in the last second"}
    states, first, _ = run(healthy(), fig(leg(rtp_lost=0), cc=0),
                           fig(leg(rtp_lost=0), cc=3, active=ts))
    assert first == "enc" and states["wan"] == "ok" and states["agent"] == "caused_upstream"


def test_ts_errors_with_rtp_loss_are_not_blamed_on_the_source() -> None:
    ts = {"continuity_count_error": "TR 101 290 continuity_count_error: 3 in the last second"}
    states, first, _ = run(healthy(), fig(leg(rtp_lost=0), cc=0),
                           fig(leg(rtp_lost=2), cc=3, active=ts))
    assert first == "wan" and states["enc"] == "ok"


def srt(state: str = "connected", lost: int = 0, dropped: int = 0) -> SrtLegStats:
    return SrtLegStats(mode="monitor", state=state,  # type: ignore[arg-type]
                       packets_lost=lost, packets_dropped=dropped)


def test_srt_link_disconnected_and_dropping() -> None:
    states, first, _ = run(healthy(), fig(leg(srt=srt("disconnected"))))
    assert first == "wan" and states["wan"] == "failing"
    states, first, _ = run(healthy(), fig(leg(srt=srt(dropped=5))), fig(leg(srt=srt(dropped=9))))
    assert first == "wan"


def test_srt_recovered_loss_is_ok_but_said() -> None:
    tr = PathTracker()
    tr.evaluate(PATH, fig(leg(srt=srt(lost=10))), healthy().get, 1.0)
    res = tr.evaluate(PATH, fig(leg(srt=srt(lost=30))), healthy().get, 2.0)
    wan = res.hops[2]
    assert wan.state == "ok" and "20 packets lost and recovered" in wan.reasons[0]
    assert res.first_failing is None


def test_counts_from_before_the_first_evaluation_are_not_new_loss() -> None:
    states, first, _ = run(healthy(), fig(leg(rtp_lost=500), cc=900))
    assert first is None and states["wan"] == "ok"


def test_sparse_loss_is_held_then_released() -> None:
    tr = PathTracker(hold_s=5.0)
    g = healthy().get
    tr.evaluate(PATH, fig(cc=0), g, 0.0)
    assert tr.evaluate(PATH, fig(cc=2), g, 1.0).first_failing == "wan"
    assert tr.evaluate(PATH, fig(cc=2), g, 4.0).first_failing == "wan"  # held
    assert tr.evaluate(PATH, fig(cc=2), g, 7.0).first_failing is None  # released


def test_a_new_leg_gets_a_grace_period() -> None:
    tr = PathTracker()
    silent = fig(leg(up=False))
    first = tr.evaluate(PATH, silent, healthy().get, 0.0)
    assert first.hops[2].state == "unknown" and first.hops[3].state == "unknown"
    assert tr.evaluate(PATH, silent, healthy().get, 3.0).hops[2].state == "failing"


def test_a_leg_that_cannot_be_received() -> None:
    bad = StreamLegStatus(url="udp://@:5000", up=False, error="port 5000 is in use")
    states, first, _ = run(healthy(), fig(bad, error="port 5000 is in use"))
    assert first == "wan" and states["agent"] == "caused_upstream"


def test_path_without_analysis_hop_and_second_leg() -> None:
    path = [PathHop(name="enc", kind="device", device="enc-01"),
            PathHop(name="b", kind="link", leg=2)]
    tr = PathTracker()
    res = tr.evaluate(path, fig(leg(), leg(up=False)), healthy().get, 0.0)
    res = tr.evaluate(path, fig(leg(), leg(up=False)), healthy().get, 3.0)
    assert res.first_failing == "b" and res.analysis_index == 2 and res.upstream_of_analysis


def test_device_hop_resolves_to_registry_id() -> None:
    d = dev("core-sw")
    d = d.model_copy(update={"id": "aa:bb:cc:dd:ee:ff"})
    path = [PathHop(name="sw", kind="device", device="core-sw")]
    res = PathTracker().evaluate(path, fig(), {"core-sw": d}.get, 0.0)
    assert res.device_ids == {"sw": "aa:bb:cc:dd:ee:ff"} and res.hops[0].state == "ok"


def test_device_reasons_say_loss_or_silence() -> None:
    from server_agent.video.paths.hops import device_verdict

    lossy = dev("rtr-01", ProbeStatus(probe="udp:7", up=False, rtt_ms=None, jitter_ms=None,
                                      loss_ratio=0.5), probe("tcp:23"))
    assert device_verdict("rtr-01", lossy).reasons == ("rtr-01 loses 50% of its udp:7 probes",)
    silent = dev("rtr-01", probe("udp:7", up=False, loss=1.0), probe("tcp:23"))
    assert device_verdict("rtr-01", silent).reasons == ("rtr-01 does not answer udp:7",)
