"""The stream plot: live curves from :class:`desktop.model.streams.StreamStore` (10 Hz
``setData`` of changed curves only), or a fixed history range from the agent's history API.

Curves are created once per name and reused (emptied, never removed), and the legend is a
label above the plot (:class:`desktop.ui.plot.Legend`, never clipped): removing items
from pyqtgraph's LegendItem while it repaints crashed PySide6 6.12 here (a refcount error
in LegendItem.paint).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from desktop.model.streams import StreamStore
from desktop.ui.graph import pg
from desktop.ui.plot import Legend
from desktop.ui.qt import Qt, QTimer, QVBoxLayout, QWidget
from desktop.ui.theme import DARK, Theme

LIVE_WINDOW_S = 120.0
_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)


def axis_label(title: str) -> str:
    """The unit only ("SRT buffer vs latency ms" -> "ms"): the legend names the curves, and a
    long vertical label is clipped on a short plot."""
    return title.rsplit(" ", 1)[-1]


class StreamPlot(QWidget):
    def __init__(self, store: StreamStore, parent: QWidget | None = None,
                 theme: Theme = DARK, names: tuple[str, ...] = (), title: str = "") -> None:
        """``names``: the curves drawn (per leg, e.g. "SRT RTT ms leg 2"); one unit per axis."""
        super().__init__(parent)
        self.store = store
        self.names = names
        self.title = title
        self.theme = theme
        self.stream: str | None = None
        self.live = True
        self.curves: dict[str, Any] = {}
        self._drawn: dict[str, float | None] = {}  # curve -> newest sample time drawn
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.legend = Legend()
        lay.addWidget(self.legend)
        self.widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.widget.setAccessibleName(f"Stream plot {title}".strip())
        self.widget.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        if title:
            self.widget.setLabel("left", axis_label(title))
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.hideButtons()
        self.widget.showGrid(x=True, y=True, alpha=0.25)
        self.widget.getPlotItem().getViewBox().setAutoVisible(y=True)
        self.shown: list[str] = []
        lay.addWidget(self.widget, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(100)  # 10 Hz
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _pen(self, i: int) -> Any:
        c = self.theme.curves
        return pg.mkPen(c[i % len(c)], width=2, style=_STYLES[(i // len(c)) % len(_STYLES)])

    def wants(self, name: str) -> bool:
        return not self.names or name.split(" leg ")[0] in self.names

    def set_curves(self, names: tuple[str, ...], title: str) -> None:
        """Show other curves (the plot picker); live data redraws at once."""
        self.names, self.title = names, title
        self.widget.setLabel("left", axis_label(title))
        self.widget.setAccessibleName(f"Stream plot {title}")
        self.clear()
        self.refresh(force=True)

    def _curve(self, name: str) -> Any:
        curve = self.curves.get(name)
        if curve is None:
            curve = pg.PlotDataItem(pen=self._pen(len(self.curves)), name=name,
                                    connect="finite", clipToView=True, autoDownsample=True,
                                    downsampleMethod="peak", antialias=False)
            self.widget.addItem(curve)
            self.curves[name] = curve
        if name not in self.shown:
            self.shown.append(name)
            self._legend()
        return curve

    def _legend(self) -> None:
        names = list(self.curves)
        dash = ("solid", "dashed", "dotted")
        c = self.theme.curves
        entries = []
        for name in self.shown:
            i = names.index(name)
            entries.append((c[i % len(c)], f"{name} ({dash[(i // len(c)) % len(dash)]})"))
        self.legend.set_entries(entries)

    def clear(self) -> None:
        for curve in self.curves.values():
            curve.setData([], [])
        self.shown = []
        self._drawn.clear()
        self._legend()

    def show_stream(self, stream: str | None) -> None:
        self.stream, self.live = stream, True
        self.clear()
        self.refresh(force=True)

    def show_history(self, series: dict[str, tuple[list[float], list[float | None]]],
                     start: float, end: float) -> None:
        self.live = False
        self.clear()
        for name, (t, v) in series.items():
            if not self.wants(name):
                continue
            self._curve(name).setData(np.asarray(t, dtype=float),
                                      np.asarray([np.nan if x is None else x for x in v],
                                                 dtype=float))
        self.widget.setXRange(start, end, padding=0)

    def refresh(self, force: bool = False) -> None:
        if not self.live or self.stream is None:
            return
        for key in self.store.keys_for(self.stream):
            if not self.wants(key[1]):
                continue
            # this plot's own record of what it drew: several plots read the same store
            buf = self.store.buffers[key]
            if force or key[1] not in self._drawn or self._drawn[key[1]] != buf.last_t:
                t, v = buf.arrays()
                self._curve(key[1]).setData(t, v)
                self._drawn[key[1]] = buf.last_t
        now = time.time()
        self.widget.setXRange(now - LIVE_WINDOW_S, now, padding=0)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.widget.setBackground(theme.base)
        for i, curve in enumerate(self.curves.values()):
            curve.setPen(self._pen(i))
        self._legend()

    def point_count(self) -> int:
        total = 0
        for name, curve in self.curves.items():
            if name not in self.shown:
                continue
            x, _ = curve.getData()
            total += 0 if x is None else len(x)
        return total
