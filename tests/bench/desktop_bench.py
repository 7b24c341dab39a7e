"""Desktop benchmarks (offscreen): paint time per frame of 64 live curves at 10 Hz over a
10-minute window, and start to the first painted overview. Each with a same-run baseline.

    frame  = one 10 Hz tick: one new sample per curve, RttPlot.refresh() (the cached strip
             image shifted and its new columns redrawn: min/max per pixel column, all curves),
             then a synchronous repaint of the whole plot widget (axes, grid, image)
    baseline: a bare pyqtgraph PlotWidget with 64 default PlotDataItems, the same data and the
             same tick (setData of every curve, repaint)
    start  = `python -m desktop.app --smoke` until it prints that the painted window is ready;
             baseline: a bare PySide6 script that shows and paints an empty QMainWindow
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from tests.bench.report import Row, percentile, size

CURVES = size(64, 4)
RATE_HZ = 10
WINDOW_S = size(600, 10)
FRAMES = size(30, 3)
START_RUNS = size(3, 1)
BARE_START = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1]); w = QMainWindow(); w.resize(1366, 768); w.show()
app.processEvents(); w.grab(); print("ready", flush=True)
"""


def _series(n: int, t0: float) -> tuple[np.ndarray, np.ndarray]:
    t = t0 + np.arange(n) / RATE_HZ
    rng = np.random.default_rng(7)
    return t, 1.0 + rng.random((CURVES, n))


def paint_frames() -> tuple[list[float], list[float]]:
    from desktop.model import SeriesStore
    from desktop.ui import theme
    from desktop.ui.graph import pg
    from desktop.ui.plot import RttPlot
    from desktop.ui.qt import QApplication
    from server_agent.contract import WireSample

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    theme.apply(app, theme.DARK)
    n = WINDOW_S * RATE_HZ
    now = time.time()
    t, v = _series(n + FRAMES, now - n / RATE_HZ)
    store = SeriesStore(capacity=n)
    keys = [(f"dev-{i:02d}", "icmp") for i in range(CURVES)]
    for i, (dev, probe) in enumerate(keys):
        buf = store.buffers.setdefault((dev, probe), __import__(
            "desktop.model.ringbuffer", fromlist=["RingBuffer"]).RingBuffer(n))
        for j in range(n):
            buf.append(float(t[j]), float(v[i, j]))
    plot = RttPlot(store, window_s=WINDOW_S)
    plot.timer.stop()  # the bench drives the ticks
    plot.resize(1366, 600)
    plot.show()
    plot.show_devices([k[0] for k in keys])
    app.processEvents()

    ours: list[float] = []
    for f in range(FRAMES):
        j = n + f
        samples = [WireSample(series="flypack_probe_rtt_seconds",
                              labels={"device": dev, "probe": probe}, t=float(t[j]),
                              v=float(v[i, j]) / 1000.0) for i, (dev, probe) in enumerate(keys)]
        store.apply(samples)
        s = time.perf_counter()
        plot.refresh()
        plot.widget.viewport().repaint()
        ours.append((time.perf_counter() - s) * 1000)

    bare = pg.PlotWidget()
    bare.resize(1366, 600)
    bare.show()
    items = [bare.plot() for _ in range(CURVES)]
    app.processEvents()
    base: list[float] = []
    for f in range(FRAMES):
        lo, hi = f + 1, n + f + 1
        s = time.perf_counter()
        for i, item in enumerate(items):
            item.setData(t[lo:hi], v[i, lo:hi])
        bare.viewport().repaint()
        base.append((time.perf_counter() - s) * 1000)
    plot.close()
    bare.close()
    return ours, base


def start_times(runs: int = START_RUNS) -> tuple[list[float], list[float]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    ours: list[float] = []
    base: list[float] = []
    with tempfile.TemporaryDirectory() as cfg:
        env["FLYPACK_CONFIG_DIR"] = cfg
        for _ in range(runs):
            for cmd, out in (([sys.executable, "-m", "desktop.app", "--smoke"], ours),
                             ([sys.executable, "-c", BARE_START], base)):
                s = time.perf_counter()
                r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
                if r.returncode != 0 or "ready" not in r.stdout:
                    raise RuntimeError(f"{cmd[1:3]} failed: {r.stderr[-500:]}")
                out.append(time.perf_counter() - s)
    return ours, base


def run() -> list[Row]:
    ours, base = paint_frames()
    med, p95 = statistics.median(ours), percentile(ours, 95)
    start, bare = start_times()
    return [
        Row("desktop plot", f"paint/frame, {CURVES} curves x {WINDOW_S // 60} min @10 Hz "
            "(median)", med, "ms", "<= 20 ms", med <= 20,
            f"bare PlotWidget {statistics.median(base):.1f} ms"),
        Row("desktop plot", "paint/frame p95", p95, "ms", "<= 20 ms", p95 <= 20,
            f"bare PlotWidget {percentile(base, 95):.1f} ms"),
        Row("desktop start", f"start to first painted overview (median of {START_RUNS})",
            statistics.median(start), "s", "<= 2 s", statistics.median(start) <= 2.0,
            f"bare PySide6 window {statistics.median(bare):.2f} s"),
    ]


if __name__ == "__main__":
    from tests.bench.report import print_table

    print_table(run())
