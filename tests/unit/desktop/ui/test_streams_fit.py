"""The Streams tab fits 1366x768 (issue 14, finding 5): every column of the list shows its
whole header ("Bitrate", not "Bitrat") without sideways scrolling, also when the splitter is
dragged towards the list, and a long name or alarm list is one tap away in full."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.qt import QApplication, QPoint, QSplitter, Qt
from server_agent.contract import HopStatus, Stream, StreamLegStatus
from tests.unit.desktop.model.test_stream_path import srt_stream


def streams() -> list[Stream]:
    s = srt_stream(advice="raise latency to 360 ms")
    s.path = [HopStatus(name="enc-02", kind="device", state="failing", reasons=["loss 65%"]),
              HopStatus(name="sw-02", kind="device", state="ok"),
              HopStatus(name="link-02", kind="link", leg=1, state="caused_upstream"),
              HopStatus(name="agent", kind="analysis", state="caused_upstream")]
    s.first_failing_hop = "enc-02"
    s.alarms = ["no_signal", "srt_dropped", "continuity_count_error"]
    s.bitrate_bps = 12_345_678.0
    plain = Stream(id="sim-enc-01", title="enc-01 program (simulated, studio B camera 3)",
                   legs=["udp://@:5000"], state="ok", bitrate_bps=1_010_000.0,
                   leg_status=[StreamLegStatus(url="udp://@:5000", up=True)])
    return [s, plain]


def test_stream_list_fits_without_sideways_scrolling(qtbot: QtBot, qapp: QApplication) -> None:
    for t in (theme.DARK, theme.SUNLIGHT):
        theme.apply(qapp, t)
        d = Dashboard(fleet=True)
        qtbot.addWidget(d)
        d.resize(1366, 740)  # the main window at 1366x768 less its status bar
        d.show()
        d.streams.set_streams(streams())
        d.show_tab("streams")
        split = d.streams.findChild(QSplitter)
        assert split is not None
        for sizes in (None, [200, 1200]):  # as laid out, and dragged towards the list
            if sizes:
                split.setSizes(sizes)
            d.grab()
            v, header = d.streams.view, d.streams.view.horizontalHeader()
            where = f"{t.name}, splitter {split.sizes()}"
            assert v.horizontalScrollBar().maximum() == 0, where
            for col in range(header.count()):
                need = header.sectionSizeFromContents(col).width()
                assert header.sectionSize(col) >= need, (
                    f"{where}: column {v.model().headerData(col, Qt.Orientation.Horizontal)}"
                    f" is {header.sectionSize(col)} px, its header needs {need}")
            right = v.mapTo(d, QPoint(v.width(), 0)).x()
            assert right <= d.width(), where
            detail = split.widget(1)
            assert detail.width() >= detail.minimumSizeHint().width(), where
    theme.apply(qapp, theme.DARK)


def test_the_full_name_and_alarms_are_one_tap_away(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    d = Dashboard(fleet=True)
    qtbot.addWidget(d)
    d.resize(1366, 740)
    d.show()
    d.streams.set_streams(streams())
    m = d.streams.model
    row = next(i for i, s in enumerate(m.streams) if s.id == "sim-enc-01")
    tip = m.data(m.index(row, 1), Qt.ItemDataRole.ToolTipRole)
    assert tip == "sim-enc-01\nenc-01 program (simulated, studio B camera 3)\nalarms: none"
    d.streams.select("cam1")
    caption = d.streams.caption.text()
    assert "alarms: no_signal, srt_dropped, continuity_count_error" in caption
    assert d.streams.caption.wordWrap()
