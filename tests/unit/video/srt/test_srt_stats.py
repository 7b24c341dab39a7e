"""Accumulating srt_bistats(clear=1) snapshots into a leg's figures (design §9)."""

from __future__ import annotations

from server_agent.video.srt.stats import Snapshot, SrtFigures, device_summary


def snap(**kw: float) -> Snapshot:
    base: dict[str, float] = {"received": 100, "recv_rate_mbps": 2.0, "rtt_ms": 3.0,
                              "bandwidth_mbps": 50.0, "buffer_ms": 110.0, "latency_ms": 120.0,
                              "flow_window": 8000}
    base.update(kw)
    return Snapshot(**base)  # type: ignore[arg-type]


def test_interval_counts_accumulate_across_ticks_and_sockets() -> None:
    f = SrtFigures("monitor")
    f.add([snap(lost=2, retransmitted=2)], "connected", 0.1)
    f.add([snap(lost=1, retransmitted=1, dropped=1, belated=3)], "connected", 0.2)
    # the socket broke: the connection thread's last snapshot plus nothing live
    f.add([snap(received=40)], "disconnected", 0.3)
    st = f.status()
    assert (st.packets_received, st.packets_lost, st.packets_retransmitted,
            st.packets_dropped, st.packets_belated) == (240, 3, 3, 1, 3)
    assert st.state == "disconnected"


def test_disconnected_rates_zero_rtt_and_buffer_null_counts_kept() -> None:
    f = SrtFigures("monitor")
    f.add([snap()], "connected", 0.1)
    f.add([], "disconnected", 0.2)
    st = f.status()
    assert st.state == "disconnected"
    assert st.rtt_ms is None and st.receive_buffer_ms is None and st.bandwidth_bps is None
    assert st.receive_rate_bps == 0.0 and st.send_rate_bps == 0.0
    assert st.packets_received == 100  # a counter: never goes back
    assert st.rtt_ms_max == 3.0


def test_connected_figures_in_base_units() -> None:
    f = SrtFigures("relay")
    f.add([snap()], "connected", 0.1)
    st = f.status()
    assert st.mode == "relay" and st.state == "connected"
    assert st.receive_rate_bps == 2e6 and st.bandwidth_bps == 50e6
    assert st.rtt_ms == 3.0 and st.receive_buffer_ms == 110.0 and st.latency_ms == 120.0
    assert st.flow_window == 8000


def test_libsrt_start_rtt_is_not_a_measurement() -> None:
    f = SrtFigures("monitor")
    f.add([snap(rtt_ms=100.0)], "connected", 0.1)
    assert f.status().rtt_ms is None and f.rtt_max is None
    f.add([snap(rtt_ms=2.0)], "connected", 0.2)
    f.add([snap(rtt_ms=100.0)], "connected", 0.3)  # once measured, 100 ms is real
    assert f.rtt_max == 100.0 and f.rtt_mean == 51.0


def test_summary_means_and_advice_over_the_check() -> None:
    f = SrtFigures("monitor")
    for i, rtt in enumerate((30.0, 50.0)):
        f.add([snap(rtt_ms=rtt, buffer_ms=100.0 + i * 10)], "connected", 0.1 * (i + 1))
    s = f.summary()
    assert s["rtt_ms"] == 40.0 and s["rtt_ms_max"] == 50.0
    assert s["receive_buffer_ms"] == 105.0 and s["latency_ms"] == 120.0
    assert s["state"] == "connected" and s["packets_received"] == 200
    assert isinstance(s["advice"], str) and "below 4x the RTT" in s["advice"]


def test_live_advice_looks_at_the_last_window() -> None:
    f = SrtFigures("monitor")
    f.add([snap(dropped=5, lost=5)], "connected", 0.0)
    f.add([snap()], "connected", 11.0)
    f.add([snap()], "connected", 22.0)
    assert f.advice() is None  # the drops are older than 10 s
    f.add([snap(lost=3, dropped=2)], "connected", 23.0)
    assert "2 packets dropped" in (f.advice() or "")


def test_device_summary_has_the_check_keys() -> None:
    from server_agent.contract import SrtLegStats

    s = device_summary(SrtLegStats(mode="device", state="connected", rtt_ms=4.0,
                                   packets_lost=3))
    assert {"rtt_ms", "rtt_ms_max", "packets_received", "packets_lost",
            "packets_retransmitted", "packets_dropped", "packets_belated",
            "receive_buffer_ms", "latency_ms", "state"} <= set(s)
    assert s["mode"] == "device" and s["packets_lost"] == 3


def test_a_closed_sockets_last_snapshot_counts_when_a_live_one_arrives_in_the_same_tick() -> None:
    f = SrtFigures("monitor")
    f.add([snap(lost=1)], "connected", 0.1)
    # between two ticks the socket closed (its final snapshot) and a new one connected
    f.add([snap(received=30, lost=4, dropped=2, belated=1),
           snap(received=7, lost=0, rtt_ms=9.0)], "connected", 0.2)
    st = f.status()
    assert (st.packets_received, st.packets_lost, st.packets_dropped,
            st.packets_belated) == (137, 5, 2, 1)
    assert st.rtt_ms == 9.0  # the live socket's figures are the ones shown
