"""Chart legends are never clipped (issue 14, finding 5): the RTT plot's legend with many
curves and the stream plots' legends at 1366x768 show whole lines inside their label; what
does not fit is "+N more", listed in full in the tooltip and shown on a tap."""

from __future__ import annotations

import time

from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from desktop.model import SeriesStore
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.plot import RttPlot
from desktop.ui.qt import QApplication, QLabel, Qt
from server_agent.contract import WireSample
from tests.unit.desktop.ui.test_streams_fit import streams
from tests.unit.desktop.ui.test_streams_panel import srt_samples


def clipped(lab: QLabel) -> str:
    """Why the label's text does not fit its box, or ''."""
    doc = QTextDocument()
    doc.setDefaultFont(lab.font())
    doc.setDocumentMargin(0)
    doc.setHtml(lab.text())
    if lab.wordWrap():
        doc.setTextWidth(lab.width())
    elif doc.idealWidth() > lab.width() + 1:
        return f"{doc.idealWidth():.0f} px of text in a {lab.width()} px label"
    if doc.size().height() > lab.height() + 1:
        return f"{doc.size().height():.0f} px of lines in a {lab.height()} px label"
    return ""


def test_rtt_legend_with_many_curves_is_whole_and_expands(qtbot: QtBot,
                                                          qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    store = SeriesStore()
    plot = RttPlot(store)
    qtbot.addWidget(plot)
    plot.timer.stop()
    plot.resize(600, 400)
    plot.show()
    devices = [f"encoder-north-{i:02d}" for i in range(12)]
    now = time.time()
    for d in devices:
        for probe in ("icmp", "tcp:22"):
            store.apply([WireSample(series="flypack_probe_rtt_seconds",
                                    labels={"device": d, "probe": probe}, t=now, v=0.002)])
    plot.show_devices(devices)
    plot.grab()
    legend = plot.legend
    assert clipped(legend) == ""
    assert clipped(plot.caption) == "" and plot.caption.text().endswith("…")  # elided, not cut
    assert all(d in plot.caption.toolTip() for d in devices)
    assert "more — tap for all" in legend.text()
    assert all(f"{d} icmp" in legend.toolTip() for d in devices)  # all of them one tap away
    before = legend.height()
    qtbot.mouseClick(legend, Qt.MouseButton.LeftButton)  # a tap shows them all
    plot.grab()
    assert legend.expanded and legend.height() > before
    assert all(f"{d} tcp:22" in legend.text() for d in devices)
    assert clipped(legend) == ""


def test_stream_plot_legends_fit_at_1366x768(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    d = Dashboard(fleet=True)
    qtbot.addWidget(d)
    d.resize(1366, 740)
    d.show()
    d.stream_store.apply(srt_samples(30))
    d.stream_store.apply([WireSample(series=s.series, labels={**s.labels, "leg": "2"}, t=s.t,
                                     v=s.v) for s in srt_samples(30)])
    d.streams.set_streams(streams())
    d.show_tab("streams")
    for title in ("SRT loss pkt/s", "SRT buffer vs latency ms", "SRT RTT ms"):
        d.streams.pick_plot(title)
        d.grab()
        for plot in (d.streams.plot, d.streams.df_plot):
            assert clipped(plot.legend) == "", f"{plot.title}: {clipped(plot.legend)}"
