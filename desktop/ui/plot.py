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
from desktop.ui.qt import (
    QFont,
    QFontMetrics,
    QLabel,
    QResizeEvent,
    QSizePolicy,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.strip import StripChart, StripItem
from desktop.ui.theme import DARK, Theme

WINDOW_S = 120.0
MANY_CURVES = 8
SPANS_S = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)  # steps: a new span redraws all


class Legend(QLabel):
    """A plot's legend above it, never clipped: entries packed into whole lines at the
    label's width (an entry never split), at most ``max_lines`` of them; what does not fit
    is "+N more", listed in the tooltip, and a tap shows every entry (another tap folds).

    Lines are laid out here, not by QLabel's word wrap, so the height is exact: a wrapped
    label in a splitter was given one line's height and its second line was cut off."""

    def __init__(self, max_lines: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_lines = max_lines
        self.entries: list[tuple[str, str]] = []  # (colour, text)
        self.expanded = False
        self.hidden_count = 0
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Plot legend")
        self._layout()

    def set_entries(self, entries: list[tuple[str, str]]) -> None:
        if entries != self.entries:
            self.entries = entries
            self._layout()

    def plain(self) -> str:
        return "\n".join(text for _, text in self.entries) or "no data yet"

    def mousePressEvent(self, event: object) -> None:
        if self.hidden_count or self.expanded:
            self.expanded = not self.expanded
            self._layout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._layout()

    def _pack(self, width: int, fm: QFontMetrics, limit: int | None) -> tuple[list[list[int]],
                                                                             int]:
        """Entry indices per line; and how many entries did not fit in ``limit`` lines."""
        sep = fm.horizontalAdvance("   ")
        lines: list[list[int]] = [[]]
        used = 0
        for i, (_, text) in enumerate(self.entries):
            w = fm.horizontalAdvance(f"■ {text}")
            if lines[-1] and used + sep + w > width:
                if limit is not None and len(lines) == limit:
                    return lines, len(self.entries) - i
                lines.append([])
                used = 0
            used += (sep if lines[-1] else 0) + w
            lines[-1].append(i)
        return lines, 0

    def _layout(self) -> None:
        fm = self.fontMetrics()
        bold = QFont(self.font())
        bold.setBold(True)
        width = max(self.width() - 8, 1)  # a little slack for the glyph's fallback font
        limit = None if self.expanded else self.max_lines
        lines, rest = self._pack(width, fm, limit)
        if rest:  # make room for "+N more" on the last line
            more = QFontMetrics(bold).horizontalAdvance(
                f"+{len(self.entries)} more — tap for all") + fm.horizontalAdvance("   ")
            lines, rest = self._pack(width - more, fm, limit)
        self.hidden_count = rest
        html = []
        for line in lines:
            parts = []
            for i in line:
                colour, text = self.entries[i]
                text = fm.elidedText(f"{text}", Qt.TextElideMode.ElideRight,
                                     width - fm.horizontalAdvance("■ "))
                parts.append(f'<span style="color:{colour}">■</span>&nbsp;{_esc(text)}')
            html.append("&nbsp;&nbsp; ".join(parts))
        if rest:
            html[-1] += f"&nbsp;&nbsp; <b>+{rest} more — tap for all</b>"
        elif self.expanded and self.max_lines < len(lines):
            fold = "<b>(tap to fold)</b>"
            last = sum(fm.horizontalAdvance(f"■ {self.entries[i][1]}   ") for i in lines[-1])
            if last + QFontMetrics(bold).horizontalAdvance("(tap to fold)") > width:
                html.append(fold)  # a line of its own rather than cut off
            else:
                html[-1] += f"&nbsp;&nbsp; {fold}"
        self.setText("<br>".join(html) if self.entries else "no data yet")
        self.setToolTip(self.plain() if rest or any(
            fm.horizontalAdvance(f"■ {t}") > width for _, t in self.entries) else "")
        self.setFixedHeight(fm.lineSpacing() * max(1, len(html)) + 4)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
        self._caption_text = ""
        self.caption = QLabel()
        self.caption.setObjectName("sectionTitle")
        # a long caption must never push the splitter (it elides instead)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.caption)
        self.legend = Legend()
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
        self.legend.set_entries([(colours[i % len(colours)], f"{k[0]} {k[1]}")
                                 for i, k in enumerate(self.curves)])
        self._force = True

    def _caption(self) -> None:
        names = ", ".join(self.devices) if self.devices else "tap devices to plot them"
        text = f"RTT (up to {self.window_s:.0f} s) — {names}"
        if self.stale_since is not None:  # first, so eliding never hides it
            text = f"⚠ STALE since {fmt.clock(self.stale_since)} (live link down) — {text}"
        self._caption_text = text
        self._fit_caption()

    def _fit_caption(self) -> None:
        """Elided with "…" at the label's width (never cut mid-glyph), all of it in the
        tooltip; the STALE warning comes first, so eliding never hides it."""
        text = self._caption_text
        fm = self.caption.fontMetrics()
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(self.width() - 4, 1))
        self.caption.setText(shown)
        self.caption.setToolTip(text if shown != text else "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_caption()

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
