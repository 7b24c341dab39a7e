"""The Streams tab: every stream by exception (icon + text + colour), and for the selected
one its path as a chain of hops (the agent's, else a local one; first failing hop marked),
its SRT legs in words, live curves or a history range (bitrate, and one picked plot: MDI or,
for SRT streams, RTT / loss / buffer vs latency), and the TR 101 290 counters.

History ranges go through the agent's history API (the session answers
``history_requested``); "Live" draws the ring buffers fed by the live WebSocket.
"""

from __future__ import annotations

from typing import Any

from desktop.model import fmt
from desktop.model.stream_path import Hop, hop_summary, hops, mbps, srt_lines
from desktop.model.streams import PLOTS, TR101290, Recent, StreamStore, has_srt
from desktop.ui.qt import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSize,
    QSplitter,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.streams_plot import StreamPlot
from desktop.ui.tablemodel import FlatTableModel
from desktop.ui.theme import GAP, TOUCH, Icons, Theme
from desktop.ui.touch import kinetic
from server_agent.contract import DeviceState, Stream

COLUMNS = ("State", "Stream", "Bitrate", "Legs", "Alarms")
RANGES = (("Live", 0.0), ("15 min", 900.0), ("1 h", 3600.0), ("6 h", 21600.0),
          ("24 h", 86400.0))
# picker labels, short: they share the ranges' row, and only SRT streams show the picker
SHORT = {"MDI DF ms": "MDI", "SRT RTT ms": "RTT", "SRT loss pkt/s": "Loss",
         "SRT buffer vs latency ms": "Buffer"}
def window_text(span_s: float) -> str:
    """'the last minute', or 'the last 40 s' while the desktop has watched for less."""
    if span_s >= 59.5:
        return "the last minute" if span_s < 90 else f"the last {span_s / 60:.0f} min"
    return f"the last {max(span_s, 1):.0f} s"


MAX_COLUMN = 200  # px: a longer alarm list wraps (two lines), then elides (tooltip: all)
MIN_STREAM = 150  # px: the Stream column never gets less than this
CHIP_MAX_MIN = 160  # px: a hop chip keeps a short name on one line; a URL may wrap


_STATE = {"ok": DeviceState.up, "alarm": DeviceState.down, "unknown": DeviceState.unknown}


class StreamTableModel(FlatTableModel):
    columns = COLUMNS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.streams: list[Stream] = []
        self.stale = False

    def set_streams(self, streams: list[Stream]) -> None:
        order = {"alarm": 0, "unknown": 1, "ok": 2}
        self.beginResetModel()
        self.streams = sorted(streams, key=lambda s: (order.get(s.state, 1), s.id))
        self.endResetModel()

    def row_count(self) -> int:
        return len(self.streams)

    def cell(self, i: int, col: int, role: int) -> Any:
        s = self.streams[i]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                text = {"ok": "OK", "alarm": "ALARM", "unknown": "unknown"}[s.state]
                return f"{text} (stale)" if self.stale else text
            if col == 1:
                return f"{s.id}\n{s.title}" if s.title else s.id
            if col == 2:
                return mbps(s.bitrate_bps)
            if col == 3:
                up = sum(1 for leg in s.leg_status if leg.up)
                return f"{up}/{len(s.legs)}"
            return ", ".join(s.alarms) or fmt.DASH
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return Icons.state(_STATE[s.state], self.stale)
        if role == Qt.ItemDataRole.ToolTipRole:
            name = f"{s.id}\n{s.title}" if s.title else s.id  # the cell's text, in full
            return f"{name}\nalarms: {', '.join(s.alarms) or 'none'}"
        if role == Qt.ItemDataRole.UserRole:
            return s.id
        return None


class StreamsPanel(QWidget):
    history_requested = Signal(str, float)  # stream id, seconds back

    def __init__(self, store: StreamStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = StreamTableModel(self)
        self.range_s = 0.0
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setChildrenCollapsible(False)
        split.setHandleWidth(GAP)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(split)

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAccessibleName("Streams")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(TOUCH)
        self.view.setIconSize(QSize(24, 24))
        # every column as wide as its header and cells need (the Stream column takes the
        # rest and wraps; long cells elide with the full text in the tooltip and, one tap
        # away, in the caption): the list never scrolls sideways
        self.view.setWordWrap(True)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.view.horizontalHeader()
        header.setMaximumSectionSize(MAX_COLUMN)
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch if col == 1 else
                                        QHeaderView.ResizeMode.ResizeToContents)
        kinetic(self.view)
        self.view.selectionModel().selectionChanged.connect(self._selected)
        split.addWidget(self.view)

        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.setSpacing(GAP)
        self.caption = QLabel("Select a stream")
        self.caption.setObjectName("sectionTitle")
        self.caption.setWordWrap(True)  # the full name and alarms of the row tapped
        rcol.addWidget(self.caption)
        self.hop_row = QHBoxLayout()
        self.hop_row.setSpacing(GAP)
        rcol.addLayout(self.hop_row)
        self.hop_detail = QLabel("")
        self.hop_detail.setWordWrap(True)
        self.hop_detail.setAccessibleName("First failing hop")
        rcol.addWidget(self.hop_detail)
        ranges = QHBoxLayout()
        ranges.setSpacing(GAP)
        self.range_buttons: dict[float, QPushButton] = {}
        for label, secs in RANGES:
            b = QPushButton(label)
            b.setObjectName("segment")  # nine share one row on an SRT stream: slim padding
            b.setCheckable(True)
            b.setAccessibleName(f"Show {label}")
            b.clicked.connect(lambda _=False, s=secs: self.set_range(s))
            ranges.addWidget(b)
            self.range_buttons[secs] = b
        self.range_buttons[0.0].setChecked(True)
        rcol.addLayout(ranges)
        self.srt_info = QLabel("")
        self.srt_info.setObjectName("srtInfo")
        self.srt_info.setWordWrap(True)
        self.srt_info.hide()
        rcol.addWidget(self.srt_info)
        first, *lower = PLOTS
        self.plot = StreamPlot(store, names=PLOTS[first], title=first)
        self.plot.setMinimumHeight(120)
        rcol.addWidget(self.plot, 3)
        # one lower plot at a time, picked in the ranges' row: the screen is 768 px high
        picks = ranges
        picks.addSpacing(GAP)
        self.plot_buttons: dict[str, QPushButton] = {}
        for title in lower:
            b = QPushButton(SHORT.get(title, title))
            b.setObjectName("segment")
            b.setCheckable(True)
            b.setAccessibleName(f"Plot {title}")
            b.clicked.connect(lambda _=False, t=title: self.pick_plot(t))
            picks.addWidget(b)
            self.plot_buttons[title] = b
        self.df_plot = StreamPlot(store, names=PLOTS[lower[0]], title=lower[0])
        self.df_plot.setMinimumHeight(90)
        rcol.addWidget(self.df_plot, 2)
        self.history: dict[str, tuple[list[float], list[float | None]]] | None = None
        self.history_span = (0.0, 0.0)
        self.pick_plot(lower[0])
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        rcol.addWidget(self.note)
        self.counter_summary = QLabel("")  # by exception: the grid shows failing checks only
        self.counter_summary.setAccessibleName("TR 101 290")
        rcol.addWidget(self.counter_summary)
        self.counter_grid = QGridLayout()
        self.counter_grid.setHorizontalSpacing(GAP * 2)
        self.counter_grid.setVerticalSpacing(2)
        self.counters: dict[str, QLabel] = {}
        self._packed: list[str] = []
        for check in TR101290:
            lab = QLabel(f"{check}: —", right)  # in the grid while it has news
            lab.setObjectName("counter")
            lab.setWordWrap(True)
            lab.hide()
            self.counters[check] = lab
        rcol.addLayout(self.counter_grid)
        self.counter_timer = QTimer(self)  # the recent window moves on between stream polls
        self.counter_timer.setInterval(1000)
        self.counter_timer.timeout.connect(
            lambda: self.update_counters() if self.isVisible() else None)
        self.counter_timer.start()
        split.addWidget(right)
        split.setSizes([600, 740])

    def current(self) -> Stream | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.streams[rows[0].row()] if rows else None

    def set_streams(self, streams: list[Stream]) -> None:
        keep = self.current()
        self.model.set_streams(streams)
        self._fit_list()
        want = keep.id if keep else (self.model.streams[0].id if self.model.streams else None)
        if want is not None:
            self.select(want)

    def list_width(self) -> int:
        """The width the list needs to show every column without scrolling sideways."""
        v, header = self.view, self.view.horizontalHeader()
        need = 0
        for col in range(len(COLUMNS)):
            want = max(header.sectionSizeFromContents(col).width(), v.sizeHintForColumn(col))
            need += MIN_STREAM if col == 1 else min(want, MAX_COLUMN)
        return need + 2 * v.frameWidth() + v.verticalScrollBar().sizeHint().width()

    def _fit_list(self) -> None:
        # the splitter cannot squeeze the list below this (the detail side gives way)
        self.view.setMinimumWidth(self.list_width())

    def set_unavailable(self, text: str) -> None:
        self.model.set_streams([])
        self.caption.setText("Streams — unavailable")
        self.note.setText(text)

    def select(self, stream_id: str) -> bool:
        for row, s in enumerate(self.model.streams):
            if s.id == stream_id:
                self.view.selectRow(row)
                self._show(s)
                return True
        return False

    def set_stale(self, stale: bool) -> None:
        self.model.stale = stale
        self.model.layoutChanged.emit()

    def set_range(self, secs: float) -> None:
        self.range_s, self.history = secs, None
        for s, b in self.range_buttons.items():
            b.setChecked(s == secs)
        cur = self.current()
        if secs == 0.0:
            self.plot.show_stream(cur.id if cur else None)
            self.df_plot.show_stream(cur.id if cur else None)
            self.note.setText("live: last 2 minutes from the live feed")
        elif cur is not None:
            self.note.setText("loading history…")
            self.history_requested.emit(cur.id, secs)

    def pick_plot(self, title: str) -> None:
        """The lower plot: MDI, or one of the SRT plots (offered for SRT streams)."""
        for t, b in self.plot_buttons.items():
            b.setChecked(t == title)
        self.df_plot.set_curves(PLOTS[title], title)
        if self.range_s and self.history is not None:
            self.df_plot.show_history(self.history, *self.history_span)

    def _selected(self) -> None:
        s = self.current()
        if s is not None:
            self._show(s)

    def _show(self, s: Stream) -> None:
        state = {"ok": "✓ OK", "alarm": "✕ ALARM", "unknown": "? unknown"}[s.state]
        title = f" · {s.title}" if s.title else ""
        alarms = f" — alarms: {', '.join(s.alarms)}" if s.alarms else ""
        rate = "no bitrate" if s.bitrate_bps is None else mbps(s.bitrate_bps)
        self.caption.setText(f"{s.id}{title} — {state} — {rate}{alarms}")
        self._show_hops(hops(s))
        srt = has_srt(s)
        self.srt_info.setVisible(srt)
        self.srt_info.setText("\n".join(srt_lines(s)))
        for b in self.plot_buttons.values():  # MDI is the only choice without SRT: no picker
            b.setVisible(srt)
        if not srt and self.df_plot.title.startswith("SRT"):
            self.pick_plot(next(iter(self.plot_buttons)))
        if self.plot.stream != s.id and self.range_s == 0.0:
            self.plot.show_stream(s.id)
            self.df_plot.show_stream(s.id)
        self.update_counters()

    def _show_hops(self, chain: list[Hop]) -> None:
        while self.hop_row.count():
            item = self.hop_row.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()  # now, not at deleteLater's next loop turn
                w.deleteLater()
        for i, h in enumerate(chain):
            if i:
                self.hop_row.addWidget(QLabel("→"))
            chip = QLabel(h.label)
            chip.setObjectName("hop")
            chip.setAccessibleName(f"hop {h.name}: {h.state}")
            chip.setProperty("state", h.state)
            chip.setProperty("bad", "true" if h.first else "false")
            chip.setWordWrap(True)
            chip.setToolTip(h.detail)
            # icon and a short name never wrap; the hops with news get the room for words
            chip.ensurePolished()
            chip.setMinimumWidth(min(CHIP_MAX_MIN, chip.fontMetrics().horizontalAdvance(
                h.label.splitlines()[0]) + 5 * GAP))  # + the chip's padding and border
            self.hop_row.addWidget(chip, 1 if h.state == "ok" and not h.first else 2)
        self.hop_detail.setText(hop_summary(chain))
        self.hop_detail.setVisible(any(h.first for h in chain))  # only when there is news

    def first_failing_hop(self) -> QLabel | None:
        for i in range(self.hop_row.count()):
            item = self.hop_row.itemAt(i)
            w = item.widget() if item is not None else None
            if isinstance(w, QLabel) and w.property("bad") == "true":
                return w
        return None

    def update_counters(self) -> None:
        """By exception: the checks that ever counted errors, each with its count over the last
        minute beside the total; red (and ✕) only for errors in that window, so a fault that
        has passed reads as history, not as a live problem."""
        s = self.current()
        totals = self.store.errors(s.id) if s else {}
        recent = self.store.recent(s.id) if s else Recent({}, 0.0)
        window = window_text(recent.span_s)
        for check, lab in self.counters.items():
            total, now = totals.get(check), recent.counts.get(check, 0.0)
            bad = bool(now)
            lab.setText(f"{'✕ ' if bad else ''}{check}: {now:.0f} in {window}"
                        f" · {fmt.DASH if total is None else f'{total:.0f}'} total")
            lab.setProperty("bad", "true" if bad else "false")
            lab.setProperty("past", "true" if total and not bad else "false")
            lab.setVisible(bool(total) or bad)
            lab.style().unpolish(lab)
            lab.style().polish(lab)
        shown = [c for c, lab in self.counters.items() if not lab.isHidden()]
        if shown != self._packed:  # packed two a row, in the standard's order
            for lab in self.counters.values():
                self.counter_grid.removeWidget(lab)
            for i, c in enumerate(shown):
                self.counter_grid.addWidget(self.counters[c], i // 2, i % 2)
            self._packed = shown
        failing = sum(1 for c in totals if recent.counts.get(c))
        earlier = sum(1 for c, v in totals.items() if v and not recent.counts.get(c))
        self.counter_summary.setText(
            "TR 101 290: no figures yet" if not totals else
            f"✕ TR 101 290: {failing} of {len(TR101290)} checks counted errors in {window}:"
            if failing else
            f"✓ TR 101 290: no errors in {window}; {earlier} "
            f"check{'' if earlier == 1 else 's'} counted errors earlier:"
            if earlier else f"✓ TR 101 290: no errors in {len(totals)} checks")

    def show_history(self, series: dict[str, tuple[list[float], list[float | None]]],
                     start: float, end: float) -> None:
        self.history, self.history_span = series, (start, end)
        self.plot.show_history(series, start, end)
        self.df_plot.show_history(series, start, end)

    def apply_theme(self, theme: Theme) -> None:
        self.plot.set_theme(theme)
        self.df_plot.set_theme(theme)
        self.model.layoutChanged.emit()
