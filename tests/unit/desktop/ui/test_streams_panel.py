"""The Streams tab with contract data: the agent's path, SRT legs and SRT curves."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from desktop.model.streams import StreamStore
from desktop.ui import theme
from desktop.ui.qt import QApplication
from desktop.ui.streams import StreamsPanel
from server_agent.contract import HopStatus, Stream, StreamLegStatus, WireSample
from tests.unit.desktop.model.test_stream_path import srt_stream


def srt_samples(n: int) -> list[WireSample]:
    now = time.time()
    out = []
    for i in range(n):
        t = now - n * 0.1 + i * 0.1
        for series, v in (("flypack_srt_rtt_seconds", 0.012), ("flypack_srt_latency_seconds",
                          0.12), ("flypack_srt_receive_buffer_seconds", 0.09),
                          ("flypack_srt_packets_lost_total", float(i))):
            out.append(WireSample(series=series, labels={"stream": "cam1", "leg": "1"}, t=t,
                                  v=v))
    return out


def test_srt_stream_shows_path_srt_detail_and_srt_plots(qtbot: QtBot,
                                                        qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    store = StreamStore()
    panel = StreamsPanel(store)
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    s = srt_stream(advice="raise latency to 360 ms")
    s.path = [HopStatus(name="enc", kind="device", state="ok"),
              HopStatus(name="wan", kind="link", leg=1, state="failing", reasons=["RTT 180 ms"]),
              HopStatus(name="agent", kind="analysis", state="caused_upstream")]
    s.first_failing_hop = "wan"
    plain = Stream(id="plain", title="", legs=["udp://@:5000"], state="ok",
                   leg_status=[StreamLegStatus(url="udp://@:5000", up=True)])
    panel.set_streams([s, plain])
    assert panel.current() is not None and panel.current().id == "cam1"  # type: ignore[union-attr]
    chip = panel.first_failing_hop()
    assert chip is not None and chip.text().startswith("✕ wan\nFIRST FAILING HOP")
    assert chip.property("state") == "failing"
    assert panel.hop_detail.text() == "✕ first failing hop: wan — RTT 180 ms"
    assert not panel.srt_info.isHidden()
    assert "leg 1 SRT (relay): ✓ connected" in panel.srt_info.text()
    assert "latency advice: raise latency to 360 ms" in panel.srt_info.text()
    assert all(not b.isHidden() for b in panel.plot_buttons.values())

    store.apply(srt_samples(30))
    panel.pick_plot("SRT buffer vs latency ms")
    assert panel.df_plot.point_count() == 60  # buffer and latency, 30 each
    assert "SRT latency ms leg 1" in panel.df_plot.legend.text()
    panel.pick_plot("SRT loss pkt/s")
    assert panel.df_plot.point_count() == 29  # a rate needs two totals
    panel.plot.refresh()  # the bitrate plot has no SRT curves
    assert panel.plot.point_count() == 0

    assert panel.counter_summary.text() == "TR 101 290: no figures yet"
    for dt, cc in ((-10.0, 0.0), (0.0, 3.0)):  # 3 errors within the last 10 s
        store.apply([WireSample(series="flypack_ts_continuity_count_error_total",
                                labels={"stream": "cam1"}, t=time.time() + dt, v=cc),
                     WireSample(series="flypack_ts_pat_error_total", labels={"stream": "cam1"},
                                t=time.time() + dt, v=0.0)])
    panel.update_counters()  # by exception: only the failing check is listed
    assert panel.counter_summary.text() == ("✕ TR 101 290: 1 of 13 checks counted errors in "
                                            "the last 10 s:")
    assert [c for c, lab in panel.counters.items() if not lab.isHidden()] == [
        "continuity_count_error"]
    assert panel.counters["continuity_count_error"].text() == (
        "✕ continuity_count_error: 3 in the last 10 s · 3 total")

    panel.select("plain")  # no SRT: no SRT plots or detail, back to MDI
    assert panel.srt_info.isHidden()
    assert all(b.isHidden() for b in panel.plot_buttons.values())  # MDI only: no picker
    assert panel.df_plot.title == "MDI DF ms"
    assert panel.first_failing_hop() is None
