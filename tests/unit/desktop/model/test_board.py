from __future__ import annotations

from desktop.model import DeviceBoard, SeriesStore, fmt
from server_agent.contract import Device, DeviceRole, DeviceState, ProbeStatus, WireSample


def dev(name: str, probes: list[ProbeStatus] | None = None) -> Device:
    return Device(id=name, name=name, role=DeviceRole.encoder, address="127.0.0.1",
                  probes=probes or [])


def s(series: str, device: str, v: float | None, t: float = 10.0,
      probe: str = "udp:7") -> WireSample:
    return WireSample(series=series, labels={"device": device, "probe": probe,
                                             "flypack": "fp"}, t=t, v=v)


def test_live_samples_drive_rtt_loss_and_state() -> None:
    b = DeviceBoard()
    assert b.set_devices([dev("a"), dev("b")])
    assert not b.set_devices([dev("a"), dev("b")])  # same shape
    assert b.rows[0].state is DeviceState.unknown
    changed = b.apply([
        s("flypack_probe_rtt_seconds", "a", 0.0012),
        s("flypack_probe_up", "a", 1.0),
        s("flypack_probe_loss_ratio", "a", 0.0),
        s("flypack_probe_up", "b", 0.0),
        s("flypack_probe_up", "zz", 1.0),  # unknown device: ignored
        s("other_series", "a", 5.0),
    ])
    assert changed == {0, 1}
    a, bb = b.rows
    assert a.rtt_ms is not None and abs(a.rtt_ms - 1.2) < 1e-9
    assert a.state is DeviceState.up and a.loss_ratio == 0.0
    assert bb.state is DeviceState.down
    b.apply([s("flypack_probe_loss_ratio", "a", 0.1)])
    row = b.rows[0]
    assert row.state.value == "degraded" and fmt.pct(row.loss_ratio) == "10 %"


def test_rest_values_do_not_override_newer_live_ones() -> None:
    b = DeviceBoard()
    b.set_devices([dev("a")])
    b.apply([s("flypack_probe_rtt_seconds", "a", 0.002, t=20.0)])
    old = ProbeStatus(probe="udp:7", up=True, rtt_ms=9.0, jitter_ms=None, loss_ratio=0.0,
                      last_t=10.0)
    b.set_devices([dev("a", [old])])
    assert b.rows[0].rtt_ms == 2.0
    newer = old.model_copy(update={"last_t": 30.0, "rtt_ms": 3.0})
    b.set_devices([dev("a", [newer])])
    assert b.rows[0].rtt_ms == 3.0


def test_series_store_generation_and_keys() -> None:
    st = SeriesStore(capacity=10)
    st.apply([s("flypack_probe_rtt_seconds", "a", 0.001, t=1.0),
              s("flypack_probe_rtt_seconds", "a", 0.002, t=2.0, probe="tcp:80"),
              s("flypack_probe_up", "a", 1.0)])
    assert st.generation == 2  # two series appeared
    st.apply([s("flypack_probe_rtt_seconds", "a", 0.003, t=3.0)])
    assert st.generation == 2  # a new sample is no new series
    assert st.keys_for(["a"]) == [("a", "tcp:80"), ("a", "udp:7")]
    assert st.points(["a", "b"]) == 3
    t, v = st.arrays(("a", "udp:7"))
    assert t.tolist() == [1.0, 3.0] and v.tolist() == [1.0, 3.0]


def test_formats() -> None:
    assert fmt.ms(None) == "—" and fmt.ms(0.256) == "0.26" and fmt.ms(12.34) == "12.3"
    assert fmt.pct(0) == "0 %" and fmt.pct(0.5) == "50 %" and fmt.pct(0.012) == "1.2 %"
    assert fmt.ago(100.0, now=130.0) == "30 s ago" and fmt.ago(0.0, now=600.0) == "10 min ago"
