"""Live RTT plot: one curve per (device, probe) of the selected devices.

Samples land in numpy ring buffers (:class:`desktop.model.SeriesStore`) as they arrive; a
10 Hz QTimer redraws what changed. All curves are one cached image with a min/max span per
pixel column (:mod:`desktop.ui.strip`), so peaks survive and a frame costs the new columns,
not every sample; antialiasing is off (design §6). The legend is a label above the plot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from desktop.model import SeriesKey, SeriesStore, fmt
from desktop.ui.graph import pg
from desktop.ui.qt import QLabel, QSizePolicy, Qt, QTimer, QVBoxLayout, QWidget
from desktop.ui.strip import StripChart, StripItem
from desktop.ui.theme import DARK, Theme

WINDOW_S = 120.0
MANY_CURVES = 8
SPANS_S = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)  # steps: a new span redraws all


class RttPlot(QWidget):
    def __init__(self, store: SeriesStore, parent: QWidget | None = None,
                 theme: Theme = DARK, window_s: float = WINDOW_S) -> None:
        super().__init__(parent)
        self.store = store
        self.window_s = window_s
        self.theme = theme
        self.devices: list[str] = []
        self.curves: dict[SeriesKey, Any] = {}  # key -> pen
        self._force = False
        self._generation = -1  # the store's series generation the curves were made from
        self.stale_since: float | None = None
        self._points = 0

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel()
        self.caption.setObjectName("sectionTitle")
        # a long caption must never push the splitter (it elides instead)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.caption)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.legend)
        self.widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.widget.setAccessibleName("RTT plot")
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)  # drag scrolls the page, not the plot
        self.widget.hideButtons()
        self.widget.showGrid(x=True, y=True, alpha=0.25)
        self.widget.setLabel("left", "RTT", units="ms")
        self.widget.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.view = self.widget.getPlotItem().getViewBox()
        self.view.disableAutoRange()  # the strip sets the y range from what it shows
        self.strip = StripChart(StripItem())
        self.widget.addItem(self.strip.item)
        self.view.sigResized.connect(self._resized)  # the image is one pixel per column
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
        self._restyle()

    def _pen(self, i: int) -> Any:
        """2 px while few curves are shown, 1 px beyond MANY_CURVES (so they stay apart)."""
        colours = self.theme.curves
        return pg.mkPen(colours[i % len(colours)], width=1 if len(self.curves) > MANY_CURVES
                        else 2)

    def _restyle(self) -> None:
        """New pens and legend; the next refresh redraws every curve with them."""
        for i, key in enumerate(self.curves):
            self.curves[key] = self._pen(i)
        colours = self.theme.curves
        self.legend.setText("&nbsp;&nbsp; ".join(
            f'<span style="color:{colours[i % len(colours)]}">■</span> {k[0]} {k[1]}'
            for i, k in enumerate(self.curves)) or "no data yet")
        self._force = True

    def _caption(self) -> None:
        names = ", ".join(self.devices) if self.devices else "tap devices to plot them"
        text = f"RTT (up to {self.window_s:.0f} s) — {names}"
        if self.stale_since is not None:  # first, so eliding never hides it
            text = f"⚠ STALE since {fmt.clock(self.stale_since)} (live link down) — {text}"
        self.caption.setText(text)

    def _sync_curves(self, always: bool = True) -> None:
        self._generation = self.store.generation
        keys = self.store.keys_for(self.devices)
        if not always and keys == list(self.curves):
            return  # another device's series appeared
        self.curves = dict.fromkeys(keys)
        self._restyle()
        self._caption()

    # --- the 10 Hz tick ----------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        # the plot's own record of the store's series, never a shared "dirty" set: the device
        # page's plot reads the same store, and a set one reader empties starved the other
        # (the live plot stopped getting new series)
        if self.store.generation != self._generation:
            self._sync_curves(always=False)
        force, self._force = force or self._force, False
        # keeps moving while stale (the gap shows how old the data is); never hides samples
        # stamped ahead of this laptop's clock
        lasts = [self.store.buffers[k].last_t for k in self.curves]
        now = max([time.time()] + [t for t in lasts if t is not None])
        span = self._span(now)
        rect = self.view.boundingRect()
        self.strip.update([(self.store.buffers[k], pen) for k, pen in self.curves.items()],
                          now, span, int(rect.width()), int(rect.height()), force=force)
        self._points = sum(len(self.store.buffers[k]) for k in self.curves)
        self.widget.setXRange(now - span, now, padding=0)
        self.widget.setYRange(0.0, self.strip.top, padding=0)

    def _resized(self, *_: object) -> None:
        self.refresh()

    def _span(self, now: float) -> float:
        """Seconds shown: the first step of SPANS_S that holds the data collected so far, at
        most the window (steps, so that a growing span rarely forces a full redraw)."""
        firsts = [self.store.first_t(k) for k in self.curves]
        age = now - min((t for t in firsts if t is not None), default=now) + 2.0
        return min([s for s in SPANS_S if s >= age] + [self.window_s])

    def point_count(self) -> int:
        """Samples the curves drew at the last refresh (for tests and the screenshot tool)."""
        return self._points
