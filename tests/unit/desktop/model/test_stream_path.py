"""Stream detail from contract data: the agent's path (or the local chain), SRT legs, SRT
curves (counters as rates)."""

from __future__ import annotations

from desktop.model.stream_path import hop_summary, hops, srt_lines
from desktop.model.streams import StreamStore, counter_rate, has_srt
from server_agent.contract import HopStatus, SrtLegStats, Stream, StreamLegStatus, WireSample

SRT_URL = "srt://127.0.0.1:9000?mode=caller&latency=120"


def srt_stream(**srt: object) -> Stream:
    stats = SrtLegStats(mode="relay", state="connected", rtt_ms=12.5, receive_buffer_ms=96.0,
                        latency_ms=120.0, packets_lost=7, packets_retransmitted=6,
                        packets_dropped=1, **srt)  # type: ignore[arg-type]
    return Stream(id="cam1", title="", legs=[SRT_URL, "udp://@:5000"], state="alarm",
                  leg_status=[StreamLegStatus(url=SRT_URL, up=True, srt=stats),
                              StreamLegStatus(url="udp://@:5000", up=False)])


def test_agent_path_states_reasons_and_first_failing_hop() -> None:
    s = srt_stream()
    s.path = [
        HopStatus(name="enc", kind="device", device="enc-01", state="ok"),
        HopStatus(name="wan", kind="link", leg=1, state="failing",
                  reasons=["SRT too-late drops 1/s", "RTT 180 ms"]),
        HopStatus(name="dec", kind="device", device="dec-01", state="caused_upstream",
                  reasons=["caused upstream: wan fails first"]),
        HopStatus(name="agent", kind="analysis", state="unknown"),
    ]
    s.first_failing_hop = "wan"
    chain = hops(s)
    assert [(h.name, h.state, h.first) for h in chain] == [
        ("enc", "ok", False), ("wan", "failing", True), ("dec", "caused_upstream", False),
        ("agent", "unknown", False)]
    assert chain[1].label == "✕ wan\nFIRST FAILING HOP"
    assert chain[2].label.splitlines() == ["↑ dec", "caused upstream",
                                           "caused upstream: wan fails …"]
    assert hop_summary(chain) == ("✕ first failing hop: wan — SRT too-late drops 1/s; "
                                  "RTT 180 ms")
    assert chain[3].label == "? agent\nunknown"
    assert chain[0].label == "✓ enc\nOK"


def test_agent_path_without_a_named_first_marks_the_first_failing() -> None:
    s = srt_stream()
    s.path = [HopStatus(name="a", kind="device", state="failing"),
              HopStatus(name="b", kind="device", state="failing")]
    assert [h.first for h in hops(s)] == [True, False]


def test_local_chain_for_agents_without_paths() -> None:
    chain = hops(srt_stream())
    assert [(h.name, h.state, h.first) for h in chain] == [
        (f"leg 1: {SRT_URL}", "ok", False), ("leg 2: udp://@:5000", "failing", True),
        ("TS analysis", "failing", False)]
    assert chain[1].detail == "no datagrams"
    assert hop_summary(chain) == "✕ first failing hop: leg 2: udp://@:5000 — no datagrams"


def test_srt_lines_say_mode_state_figures_and_advice() -> None:
    assert not has_srt(Stream(id="x", title="", legs=["udp://@:1"],
                              leg_status=[StreamLegStatus(url="udp://@:1", up=True)]))
    s = srt_stream(advice="raise latency to 360 ms (RTT 90 ms x 4)")
    assert has_srt(s)
    assert srt_lines(s) == [
        "leg 1 SRT (relay): ✓ connected · RTT 12 ms · buffer 96 ms / latency 120 ms · "
        "lost 7 · retransmitted 6 · too late 1",
        "   → latency advice: raise latency to 360 ms (RTT 90 ms x 4)"]
    down = srt_stream()
    down.leg_status[0].srt = SrtLegStats(mode="device", state="disconnected")
    assert srt_lines(down) == ["leg 1 SRT (device): ✕ disconnected · RTT — · buffer — / "
                               "latency — · lost 0 · retransmitted 0 · too late 0"]


def sample(series: str, t: float, v: float | None, leg: str = "1") -> WireSample:
    return WireSample(series=series, labels={"stream": "cam1", "leg": leg, "mode": "relay"},
                      t=t, v=v)


def test_store_keeps_srt_curves_and_turns_counters_into_rates() -> None:
    st = StreamStore()
    st.apply([sample("flypack_srt_rtt_seconds", 1.0, 0.012),
              sample("flypack_srt_latency_seconds", 1.0, 0.12),
              sample("flypack_srt_receive_buffer_seconds", 1.0, None),
              sample("flypack_srt_packets_dropped_total", 1.0, 10.0),
              sample("flypack_srt_packets_dropped_total", 1.0, 10.0),  # re-sent latest
              sample("flypack_srt_packets_dropped_total", 1.5, 13.0),
              sample("flypack_srt_packets_dropped_total", 2.0, 2.0),  # agent restarted
              sample("flypack_srt_packets_dropped_total", 3.0, 4.0),
              sample("flypack_srt_connected", 1.0, 1.0)])  # not drawn
    assert {k[1] for k in st.keys_for("cam1")} == {
        "SRT buffer ms leg 1", "SRT latency ms leg 1", "SRT RTT ms leg 1",
        "SRT too-late drops pkt/s leg 1"}
    assert st.buffers[("cam1", "SRT RTT ms leg 1")].last_v == 12.0
    assert st.buffers[("cam1", "SRT buffer ms leg 1")].last_v is None
    t, v = st.buffers[("cam1", "SRT too-late drops pkt/s leg 1")].arrays()
    assert t.tolist() == [1.5, 2.0, 3.0]
    assert v[0] == 6.0 and v[1] != v[1] and v[2] == 2.0  # 3 in 0.5 s; NaN at the reset


def test_counter_rate() -> None:
    assert counter_rate([0, 1, 2, 4, 5], [0.0, 5.0, None, 10.0, 4.0]) == [
        None, 5.0, None, None, None]
