"""The live plot's cached image: drawing frame by frame must give the same pixels as drawing
everything at once (what a full redraw would show)."""

from __future__ import annotations

import numpy as np
from pytestqt.qtbot import QtBot

from desktop.model import RingBuffer
from desktop.ui.graph import pg
from desktop.ui.qt import QApplication
from desktop.ui.strip import StripChart, StripItem, nice_top

PENS = ("#4aa3ff", "#f0a020", "#3fb950")


def filled(n: int, t_end: float, rate: float = 10.0) -> list[RingBuffer]:
    rng = np.random.default_rng(5)
    bufs = []
    for i in range(n):
        buf = RingBuffer(2000)
        for t in np.arange(t_end - 100.0, t_end, 1.0 / rate):
            buf.append(float(t), 1.0 + i + rng.random())
        bufs.append(buf)
    return bufs


def test_incremental_frames_equal_a_full_redraw(qapp: QApplication) -> None:
    bufs = filled(3, t_end=1000.0)
    curves = [(b, pg.mkPen(c, width=w)) for b, c, w in zip(bufs, PENS, (1, 2, 1), strict=True)]
    live = StripChart(StripItem())
    live.update(curves, now=1000.0, span=60.0, width=240, height=120)
    rng = np.random.default_rng(9)
    for f in range(1, 80):  # 8 s of 10 Hz frames: the image scrolls by ~32 columns
        now = 1000.0 + f / 10.0
        for i, b in enumerate(bufs):
            if i != 2 or f % 10 == 0:  # the third curve reports at 1 Hz
                b.append(now - 0.05, 1.0 + i + rng.random())
        live.update(curves, now=now, span=60.0, width=240, height=120)
        fresh = StripChart(StripItem())
        fresh.update(curves, now=now, span=60.0, width=240, height=120)
        assert live.top == fresh.top and live.item.x0 == fresh.item.x0
        assert np.count_nonzero(fresh.item.pixels) > 240  # something was drawn
        # the two leftmost columns aside: a full draw cuts the lines there at the image's
        # edge, and Qt rasterises a cut (2 px) line a pixel differently
        assert np.array_equal(live.item.pixels[:, 2:], fresh.item.pixels[:, 2:]), f
    assert live.full_redraws == 1  # everything after the first frame was incremental


def test_a_spike_above_the_range_redraws_with_a_higher_top(qapp: QApplication) -> None:
    bufs = filled(1, t_end=500.0)
    curves = [(bufs[0], pg.mkPen(PENS[0]))]
    strip = StripChart(StripItem())
    strip.update(curves, now=500.0, span=60.0, width=240, height=120)
    assert strip.top == nice_top(2.0) == 2.5
    bufs[0].append(500.05, 40.0)  # a spike survives: the range grows to show it
    strip.update(curves, now=500.1, span=60.0, width=240, height=120)
    assert strip.full_redraws == 2 and strip.top == 50.0
    column = strip.item.pixels[:, -1]  # the spike's column reaches near the top row
    assert np.flatnonzero(column).min() < 120 * (1 - 40.0 / 50.0) + 2


def test_nice_top() -> None:
    assert [nice_top(x) for x in (0.0, 0.8, 1.0, 9.0, 42.0)] == [1.0, 1.0, 1.2, 12.0, 60.0]


def test_plot_draws_live_samples(qtbot: QtBot, qapp: QApplication) -> None:
    from desktop.model import SeriesStore
    from desktop.ui.plot import RttPlot

    store = SeriesStore()
    plot = RttPlot(store)
    qtbot.addWidget(plot)
    plot.timer.stop()
    plot.resize(800, 400)
    plot.show()
    plot.show_devices(["enc-01"])
    assert plot.point_count() == 0 and plot.legend.text() == "no data yet"
    bufs = filled(1, t_end=__import__("time").time())
    store.buffers[("enc-01", "icmp")] = bufs[0]
    store.generation += 1  # as apply() does for a new series
    plot.refresh()
    assert plot.point_count() == len(bufs[0])
    assert "enc-01 icmp" in plot.legend.text()
    assert np.count_nonzero(plot.strip.item.pixels) > 100


def test_two_plots_on_one_store_both_get_new_series(qtbot: QtBot, qapp: QApplication) -> None:
    """The devices tab and the device page share a store: neither may starve the other (a
    shared dirty set did: the e2e slice's plot stopped getting live samples)."""
    import time

    from desktop.model import SeriesStore
    from desktop.ui.plot import RttPlot
    from server_agent.contract import WireSample

    store = SeriesStore()
    plots = [RttPlot(store), RttPlot(store)]
    for p in plots:
        qtbot.addWidget(p)
        p.timer.stop()
        p.resize(600, 300)
        p.show()
        p.show_devices(["enc-01"])  # selected before its first sample
    now = time.time()
    for i in range(5):
        store.apply([WireSample(series="flypack_probe_rtt_seconds",
                                labels={"device": "enc-01", "probe": "icmp"},
                                t=now - 5 + i, v=0.002)])
        for p in reversed(plots) if i % 2 else plots:
            p.refresh()
    assert [p.point_count() for p in plots] == [5, 5]
    assert all(list(p.curves) == [("enc-01", "icmp")] for p in plots)
