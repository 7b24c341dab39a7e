"""TR 101 290 counts over a recent window beside the totals (issue 14, finding 5): a stream
that is OK now does not list red counts left from a fault minutes ago. The window comes from
the counter totals the live feed already sends (no agent change)."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from desktop.model.streams import RECENT_S, StreamStore, counter_increase
from desktop.ui import theme
from desktop.ui.qt import QApplication
from desktop.ui.streams import StreamsPanel
from server_agent.contract import Stream, StreamLegStatus, WireSample


def totals(store: StreamStore, t0: float, seconds: int, cc: list[float]) -> None:
    """Live samples at 10 Hz: the continuity_count_error total of second i is cc[i]."""
    for i in range(seconds * 10):
        t = t0 + i / 10
        store.apply([WireSample(series="flypack_ts_continuity_count_error_total",
                                labels={"stream": "cam1"}, t=t, v=cc[i // 10]),
                     WireSample(series="flypack_ts_pcr_accuracy_error_total",
                                labels={"stream": "cam1"}, t=t, v=0.0)])


def test_recent_counts_come_from_the_live_totals() -> None:
    assert counter_increase([0, 5, 5, 2, 4]) == 9.0  # a restart counts from zero
    store = StreamStore()
    t0 = time.time() - 300
    # a fault in the first 20 s (45 errors), then four minutes clean
    cc = [min(45.0, 3.0 * i) for i in range(20)] + [45.0] * 220
    totals(store, t0, 240, cc)
    r = store.recent("cam1")
    assert r.counts == {"continuity_count_error": 0.0, "pcr_accuracy_error": 0.0}
    assert r.span_s == RECENT_S
    assert store.errors("cam1")["continuity_count_error"] == 45.0
    totals(store, t0 + 240, 5, [45.0, 46.0, 50.0, 50.0, 50.0])  # and now 5 more
    assert store.recent("cam1").counts["continuity_count_error"] == 5.0
    fresh = StreamStore()
    totals(fresh, t0, 10, [7.0] * 10)  # a desktop that just connected: the window says so
    assert fresh.recent("cam1").counts["continuity_count_error"] == 0.0
    assert 9.0 <= fresh.recent("cam1").span_s < 10.0


def test_an_ok_stream_shows_old_errors_as_history_not_red(qtbot: QtBot,
                                                          qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    store = StreamStore()
    panel = StreamsPanel(store)
    qtbot.addWidget(panel)
    panel.resize(1366, 700)
    panel.show()
    t0 = time.time() - 300
    totals(store, t0, 240, [min(45.0, 3.0 * i) for i in range(20)] + [45.0] * 220)
    panel.set_streams([Stream(id="cam1", title="cam 1", legs=["udp://@:5000"], state="ok",
                              leg_status=[StreamLegStatus(url="udp://@:5000", up=True)])])
    lab = panel.counters["continuity_count_error"]
    assert not lab.isHidden()  # the total is not hidden either
    assert lab.text() == "continuity_count_error: 0 in the last minute · 45 total"
    assert lab.property("bad") == "false" and lab.property("past") == "true"
    assert panel.counter_summary.text() == (
        "✓ TR 101 290: no errors in the last minute; 1 check counted errors earlier:")

    totals(store, t0 + 240, 3, [45.0, 48.0, 52.0])  # errors again, now
    panel.update_counters()
    assert lab.text() == "✕ continuity_count_error: 7 in the last minute · 52 total"
    assert lab.property("bad") == "true"
    assert panel.counter_summary.text() == (
        "✕ TR 101 290: 1 of 13 checks counted errors in the last minute:")
