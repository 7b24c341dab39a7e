"""The simulated encoder's SRT figures react to fault injection like a real link would."""

from __future__ import annotations

from server_agent.contract import SimFault
from server_agent.sim.faults import FaultBook
from server_agent.sim.srt_stats import LATENCY_MS, RTT_BASE_MS, SimSrtOutput
from server_agent.video.srt.device import DeviceReadError, parse_status


def output() -> tuple[SimSrtOutput, FaultBook]:
    faults = FaultBook(["enc-01"])
    return SimSrtOutput("enc-01", "127.77.1.1", faults, mbps=5.0), faults


def test_clean_link_connected_no_loss() -> None:
    out, _ = output()
    out.status(0.0)
    st = out.status(10.0)
    assert st["state"] == "connected" and st["rtt_ms"] == RTT_BASE_MS
    assert st["packets_received"] == int(5e6 / (1316 * 8) * 10)
    assert st["packets_lost"] == st["packets_dropped"] == 0
    assert st["latency_ms"] == LATENCY_MS
    parsed = parse_status({"srt": st}, "sim")  # what the device driver reads
    assert parsed.mode == "device" and parsed.packets_received == st["packets_received"]


def test_loss_is_recovered_while_latency_leaves_rounds() -> None:
    out, faults = output()
    out.status(0.0)
    faults.set("enc-01", SimFault(loss_ratio=0.01))
    st = out.status(10.0)
    assert st["packets_lost"] > 0 and st["packets_retransmitted"] >= st["packets_lost"] * 0.99
    assert st["packets_dropped"] == 0  # 0.01^61 of 4750 packets: nothing


def test_loss_with_long_rtt_is_dropped() -> None:
    out, faults = output()
    out.status(0.0)
    faults.set("enc-01", SimFault(loss_ratio=0.2, latency_ms=40))  # RTT 82 ms: one round
    st = out.status(10.0)
    assert st["rtt_ms"] == RTT_BASE_MS + 80
    assert st["packets_dropped"] > 0  # 0.2^2 of what was sent
    assert st["packets_dropped"] < st["packets_lost"]


def test_down_disconnects_then_reconnect_counts() -> None:
    out, faults = output()
    out.status(0.0)
    before = out.status(1.0)["packets_received"]
    faults.set("enc-01", SimFault(down=True))
    st = out.status(5.0)
    assert st["state"] == "disconnected" and st["rtt_ms"] is None
    assert st["receive_buffer_ms"] is None and st["send_rate_bps"] == 0.0
    assert st["packets_received"] == before  # counts stay
    faults.clear("enc-01")
    st = out.status(6.0)
    assert st["state"] == "connected" and st["reconnects"] == 1


def test_driver_says_what_is_missing() -> None:
    import pytest

    with pytest.raises(DeviceReadError, match="reports no SRT statistics"):
        parse_status({"device": "enc-01"}, "http://127.77.1.1:8080/api/v1/status")
    with pytest.raises(DeviceReadError, match="unexpected SRT figures"):
        parse_status({"srt": {"state": "sideways"}}, "x")
