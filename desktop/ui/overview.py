"""The fleet overview: one large tile per flypack, worst first. Each tile says (in text, with a
shape icon and a coloured border) its state, streams ok/alarm, devices up/down, the worst
latency and whether a job runs; stale and unreachable flypacks say so. One tap opens that
flypack's dashboard at its most severe problem (``tile_tapped``)."""

from __future__ import annotations

from collections.abc import Callable

from desktop.model import fmt
from desktop.model.overview import Level, Tile, order_tiles, plural
from desktop.ui.qt import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QResizeEvent,
    QScrollArea,
    QSize,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP, Icons
from desktop.ui.touch import kinetic
from server_agent.contract import DeviceState

_ICON = {Level.ok: (DeviceState.up, False), Level.unknown: (DeviceState.unknown, False),
         Level.warning: (DeviceState.degraded, False), Level.stale: (DeviceState.up, True),
         Level.degraded: (DeviceState.degraded, False),
         Level.unreachable: (DeviceState.down, False), Level.critical: (DeviceState.down, False)}
_WORD = {Level.ok: "OK", Level.unknown: "NOT CONNECTED", Level.warning: "WARNING",
         Level.stale: "STALE", Level.degraded: "DEGRADED", Level.unreachable: "UNREACHABLE",
         Level.critical: "PROBLEM"}


def tile_lines(t: Tile, now: float | None = None) -> list[str]:
    """The tile's lines, in full (the button fits them to its width: :func:`fit_lines`)."""
    word = _WORD[t.level]
    if t.level is Level.ok and t.alarms_acked:
        word = f"OK, {plural(t.alarms_acked, 'alarm')} acknowledged"
    lines = [f"{t.name}   —   {word}", t.headline]
    if t.updated is not None:
        devices = f"devices: {t.devices_up} up, {t.devices_down} down"
        if t.devices_degraded:
            devices += f", {t.devices_degraded} degraded"
        worst = (f"worst RTT {fmt.ms(t.worst_rtt_ms)} ms ({t.worst_device})"
                 if t.worst_rtt_ms is not None else "worst RTT —")
        jobs = ("jobs: n/a" if t.jobs_running is None else
                f"▶ {plural(t.jobs_running, 'job')} running" if t.jobs_running
                else "no job running")
        lines += [f"streams: {t.streams_ok} ok, {t.streams_alarm} in alarm   ·   "
                  f"{t.alarm_summary}", devices, f"{worst}   ·   {jobs}",
                  f"updated {fmt.ago(t.updated, now)}"]
    elif t.error:
        lines.append(t.error)
    return lines


def tile_text(t: Tile, now: float | None = None) -> str:
    return "\n".join(tile_lines(t, now))


def fit_lines(lines: list[str], width: int, advance: Callable[[str], int],
              elide: Callable[[str, int], str]) -> list[str]:
    """Lines that fit ``width`` px: the headline (line 2, the alarm or the problem) wraps onto
    a second line before anything is elided; the rest is elided. The tile's tooltip and
    accessible name hold the full text."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if advance(line) <= width:
            out.append(line)
            continue
        if i == 1:  # the headline: wrap at a word, then elide what is left
            words, first = line.split(" "), ""
            while words and advance(f"{first} {words[0]}".strip()) <= width:
                first = f"{first} {words.pop(0)}".strip()
            if first and words:
                rest = " ".join(words)
                out += [first, rest if advance(rest) <= width else elide(rest, width)]
                continue
        out.append(elide(line, width))
    return out


class TileButton(QPushButton):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self.setIconSize(QSize(48, 48))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.tile: Tile | None = None
        self.lines: list[str] = []

    def show_tile(self, t: Tile) -> None:
        self.tile = t
        state, stale = _ICON[t.level]
        self.setIcon(Icons.state(state, stale))
        self.lines = tile_lines(t)
        self._fit()
        self.setAccessibleName(f"{t.name}: {_WORD[t.level]} — {t.headline}")
        self.setToolTip("\n".join([t.url, *self.lines[1:]]))
        if self.property("level") != t.level.name:
            self.setProperty("level", t.level.name)
            self.style().unpolish(self)
            self.style().polish(self)
            self._fit()  # the level's style may change the font

    def _fit(self) -> None:
        """Set the text fitted to the button's width (measured through its own size hint:
        icon, padding and border are what the hint adds to the longest line)."""
        if not self.lines:
            return
        fm = self.fontMetrics()
        full = "\n".join(self.lines)
        if self.text() != full:
            self.setText(full)
        chrome = self.sizeHint().width() - max(fm.horizontalAdvance(x) for x in self.lines)
        fitted = "\n".join(fit_lines(
            self.lines, self.width() - chrome, fm.horizontalAdvance,
            lambda text, w: fm.elidedText(text, Qt.TextElideMode.ElideRight, w)))
        if fitted != self.text():
            self.setText(fitted)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class OverviewView(QWidget):
    tile_tapped = Signal(str)  # url
    add_requested = Signal()
    theme_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        root = QVBoxLayout(self)
        root.setContentsMargins(GAP, GAP, GAP, GAP)
        root.setSpacing(GAP)
        bar = QHBoxLayout()
        bar.setSpacing(GAP)
        title = QLabel("flypack — fleet overview")
        title.setObjectName("title")
        bar.addWidget(title)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        bar.addWidget(self.summary, 1)
        self.add = QPushButton("+ Add flypack")
        self.add.setAccessibleName("Add a flypack")
        self.add.clicked.connect(self.add_requested)
        bar.addWidget(self.add)
        self.sunlight = QPushButton("☀ Sunlight")
        self.sunlight.setCheckable(True)
        self.sunlight.setAccessibleName("Sunlight theme")
        self.sunlight.toggled.connect(self.theme_toggled)
        bar.addWidget(self.sunlight)
        root.addLayout(bar)
        self.scroller = kinetic(QScrollArea())
        self.scroller.setWidgetResizable(True)
        inner = QWidget()
        self.grid = QGridLayout(inner)
        self.grid.setSpacing(GAP * 2)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel("No flypacks yet. Tap '+ Add flypack' and enter its agent URL.")
        self.empty.setObjectName("title")
        self.empty.setWordWrap(True)
        self.grid.addWidget(self.empty, 0, 0)
        self.scroller.setWidget(inner)
        root.addWidget(self.scroller, 1)
        self.tiles: list[TileButton] = []
        self.columns = 2

    def set_tiles(self, tiles: list[Tile]) -> None:
        ordered = order_tiles(tiles)
        while len(self.tiles) < len(ordered):
            b = TileButton()
            b.clicked.connect(lambda _=False, b=b: self._tapped(b))
            self.tiles.append(b)
        for i, b in enumerate(self.tiles):
            if i < len(ordered):
                b.show_tile(ordered[i])
                self.grid.addWidget(b, i // self.columns, i % self.columns)
                b.show()
            else:
                b.hide()
        self.grid.setRowStretch(len(ordered) // self.columns + 1, 1)
        self.empty.setVisible(not ordered)
        bad = sum(1 for t in ordered if t.level >= Level.stale)
        need = "none needs attention" if not bad else \
            f"{bad} needs attention" if bad == 1 else f"{bad} need attention"
        self.summary.setText(f"{plural(len(ordered), 'flypack')} — {need}" if ordered else "")

    def _tapped(self, b: TileButton) -> None:
        if b.tile is not None:
            self.tile_tapped.emit(b.tile.url)

    def tile_for(self, url: str) -> TileButton | None:
        return next((b for b in self.tiles if b.tile and b.tile.url == url and b.isVisible()),
                    None)
