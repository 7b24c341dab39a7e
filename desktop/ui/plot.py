"""Live RTT plot: one curve per (device, probe) of the selected devices.

Samples land in numpy ring buffers (:class:`desktop.model.SeriesStore`) as they arrive; a
10 Hz QTimer calls ``setData`` once per changed curve. Curves clip to the view and downsample
by peak so spikes survive; antialiasing is off (design §6).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from desktop.model import SeriesKey, SeriesStore, fmt
from desktop.ui.qt import QLabel, QSizePolicy, Qt, QTimer, QVBoxLayout, QWidget, pg
from desktop.ui.theme import DARK, Theme

WINDOW_S = 120.0
MANY_CURVES = 8
MIN_SPAN_S = 30.0
_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)


class RttPlot(QWidget):
    def __init__(self, store: SeriesStore, parent: QWidget | None = None,
                 theme: Theme = DARK, window_s: float = WINDOW_S) -> None:
        super().__init__(parent)
        self.store = store
        self.window_s = window_s
        self.theme = theme
        self.devices: list[str] = []
        self.curves: dict[SeriesKey, Any] = {}
        self.stale_since: float | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel()
        self.caption.setObjectName("sectionTitle")
        # a long caption must never push the splitter (it elides instead)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.caption)
        self.widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.widget.setAccessibleName("RTT plot")
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)  # drag scrolls the page, not the plot
        self.widget.hideButtons()
        self.widget.showGrid(x=True, y=True, alpha=0.25)
        self.widget.setLabel("left", "RTT", units="ms")
        self.widget.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.widget.getPlotItem().getViewBox().setAutoVisible(y=True)
        self.legend = self.widget.addLegend(offset=(8, 8))
        lay.addWidget(self.widget, 1)
        self._caption()

        self.timer = QTimer(self)
        self.timer.setInterval(100)  # 10 Hz
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # --- what to show ----------------------------------------------------------------

    def show_devices(self, devices: Sequence[str]) -> None:
        self.devices = list(devices)
        self._sync_curves()
        self.refresh(force=True)

    def set_stale(self, since: float | None) -> None:
        self.stale_since = since
        self._caption()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.widget.setBackground(theme.base)
        for axis in ("left", "bottom"):
            ax = self.widget.getPlotItem().getAxis(axis)
            ax.setPen(theme.text)
            ax.setTextPen(theme.text)
        for i, (key, curve) in enumerate(self.curves.items()):
            curve.setPen(self._pen(i))
            self.legend.removeItem(curve)
            self.legend.addItem(curve, f"{key[0]} {key[1]}")
        self.legend.setLabelTextColor(theme.text)

    def _pen(self, i: int) -> Any:
        """2 px and dash styles while few curves are shown; beyond MANY_CURVES, 1 px solid
        cosmetic pens (wide or dashed pens make Qt's raster engine stroke every segment:
        ~90 ms per 600-point curve here, versus ~1 ms)."""
        colours = self.theme.curves
        if len(self.curves) >= MANY_CURVES or i >= MANY_CURVES:
            pen = pg.mkPen(colours[i % len(colours)], width=1)
            pen.setCosmetic(True)
            return pen
        return pg.mkPen(colours[i % len(colours)], width=2,
                        style=_STYLES[(i // len(colours)) % len(_STYLES)])

    def _caption(self) -> None:
        names = ", ".join(self.devices) if self.devices else "tap devices to plot them"
        text = f"RTT (up to {self.window_s:.0f} s) — {names}"
        if self.stale_since is not None:  # first, so eliding never hides it
            text = f"⚠ STALE since {fmt.clock(self.stale_since)} (live link down) — {text}"
        self.caption.setText(text)

    def _sync_curves(self) -> None:
        wanted = self.store.keys_for(self.devices)
        for key in [k for k in self.curves if k not in wanted]:
            curve = self.curves.pop(key)
            self.legend.removeItem(curve)
            self.widget.removeItem(curve)
        for key in wanted:
            if key in self.curves:
                continue
            curve = pg.PlotDataItem(
                pen=self._pen(len(self.curves)), name=f"{key[0]} {key[1]}",
                connect="finite", clipToView=True, autoDownsample=True,
                downsampleMethod="peak", antialias=False,
            )
            self.widget.addItem(curve)
            self.curves[key] = curve
        for i, curve in enumerate(self.curves.values()):  # thin pens once there are many
            curve.setPen(self._pen(i))
        self._caption()

    # --- the 10 Hz tick ----------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        dirty = self.store.take_dirty()
        if any(k[0] in self.devices and k not in self.curves for k in dirty):
            self._sync_curves()
            force = True
        for key, curve in self.curves.items():
            if force or key in dirty:
                t, v = self.store.arrays(key)
                # "all" lets pyqtgraph draw with drawLines (fast); "finite" (needed only when
                # the series has gaps) builds a QPainterPath, several times slower
                curve.setData(t, v, connect="finite" if np.isnan(v).any() else "all")
        now = time.time()  # keeps moving while stale: the gap shows how old the data is
        self.widget.setXRange(now - self._span(now), now, padding=0)

    def _span(self, now: float) -> float:
        """Seconds shown: the data collected so far (at least 30 s), at most WINDOW_S."""
        firsts = [self.store.first_t(k) for k in self.curves]
        oldest = min((t for t in firsts if t is not None), default=now)
        return min(self.window_s, max(MIN_SPAN_S, now - oldest + 2.0))

    def point_count(self) -> int:
        """Points handed to the curves (for tests and the screenshot tool).

        Not ``getData()``: that is what survives clip-to-view and peak downsampling, which
        depends on the widget's size and can stay small while data keeps arriving.
        """
        total = 0
        for curve in self.curves.values():
            x = curve.xData
            total += 0 if x is None else len(x)
        return total
