"""The Streams tab: every stream by exception (icon + text + colour), and for the selected
one its legs as a chain of hops (first failing hop marked), live curves or a history range,
and the TR 101 290 counters.

History ranges go through the agent's history API (the session answers
``history_requested``); "Live" draws the ring buffers fed by the live WebSocket.
"""

from __future__ import annotations

from typing import Any

from desktop.model import fmt
from desktop.model.streams import TR101290, StreamStore
from desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    QSize,
    QSplitter,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.streams_plot import StreamPlot
from desktop.ui.theme import GAP, TOUCH, Icons, Theme
from desktop.ui.touch import kinetic
from server_agent.contract import DeviceState, Stream

COLUMNS = ("State", "Stream", "Bitrate", "Legs", "Alarms")
RANGES = (("Live", 0.0), ("15 min", 900.0), ("1 h", 3600.0), ("6 h", 21600.0),
          ("24 h", 86400.0))
_STATE = {"ok": DeviceState.up, "alarm": DeviceState.down, "unknown": DeviceState.unknown}
_Index = QModelIndex | QPersistentModelIndex


def mbps(bps: float | None) -> str:
    return fmt.DASH if bps is None else f"{bps / 1e6:.2f} Mb/s"


class StreamTableModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.streams: list[Stream] = []
        self.stale = False

    def set_streams(self, streams: list[Stream]) -> None:
        order = {"alarm": 0, "unknown": 1, "ok": 2}
        self.beginResetModel()
        self.streams = sorted(streams, key=lambda s: (order.get(s.state, 1), s.id))
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.streams)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.streams[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                text = {"ok": "OK", "alarm": "ALARM", "unknown": "unknown"}[s.state]
                return f"{text} (stale)" if self.stale else text
            if col == 1:
                return f"{s.id} — {s.title}" if s.title else s.id
            if col == 2:
                return mbps(s.bitrate_bps)
            if col == 3:
                up = sum(1 for leg in s.leg_status if leg.up)
                return f"{up}/{len(s.legs)}"
            return ", ".join(s.alarms) or fmt.DASH
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return Icons.state(_STATE[s.state], self.stale)
        if role == Qt.ItemDataRole.UserRole:
            return s.id
        return None


def hops(s: Stream) -> list[tuple[str, bool]]:
    """The stream's path as (label, failing) hops: each leg's source -> the agent's receiver
    -> the TS analysis. The first hop that fails is the one to look at."""
    out: list[tuple[str, bool]] = []
    for i, url in enumerate(s.legs):
        status = s.leg_status[i] if i < len(s.leg_status) else None
        bad = status is None or not status.up
        why = (status.error if status and status.error else "no datagrams") if bad else \
            mbps(status.bitrate_bps if status else None)
        out.append((f"leg {i + 1}: {url}\n{'✕ ' if bad else '✓ '}{why}", bad))
    ts_bad = s.state == "alarm"
    out.append(("TS analysis\n" + ("✕ " + ", ".join(s.alarms) if ts_bad else "✓ clean"), ts_bad))
    return out


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
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 110), (2, 100), (3, 70), (4, 110)):
            self.view.setColumnWidth(col, width)
        kinetic(self.view)
        self.view.selectionModel().selectionChanged.connect(self._selected)
        split.addWidget(self.view)

        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.setSpacing(GAP)
        self.caption = QLabel("Select a stream")
        self.caption.setObjectName("sectionTitle")
        rcol.addWidget(self.caption)
        self.hop_row = QHBoxLayout()
        self.hop_row.setSpacing(GAP)
        rcol.addLayout(self.hop_row)
        ranges = QHBoxLayout()
        ranges.setSpacing(GAP)
        self.range_buttons: dict[float, QPushButton] = {}
        for label, secs in RANGES:
            b = QPushButton(label)
            b.setCheckable(True)
            b.setAccessibleName(f"Show {label}")
            b.clicked.connect(lambda _=False, s=secs: self.set_range(s))
            ranges.addWidget(b)
            self.range_buttons[secs] = b
        self.range_buttons[0.0].setChecked(True)
        rcol.addLayout(ranges)
        self.plot = StreamPlot(store, unit="Mb/s", title="Mb/s")
        self.plot.setMinimumHeight(120)
        rcol.addWidget(self.plot, 3)
        self.df_plot = StreamPlot(store, unit="ms", title="MDI DF ms")
        self.df_plot.setMinimumHeight(90)
        rcol.addWidget(self.df_plot, 2)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        rcol.addWidget(self.note)
        grid = QGridLayout()
        grid.setHorizontalSpacing(GAP * 2)
        grid.setVerticalSpacing(2)
        self.counters: dict[str, QLabel] = {}
        for i, check in enumerate(TR101290):
            lab = QLabel(f"{check}: —")
            lab.setObjectName("counter")
            self.counters[check] = lab
            grid.addWidget(lab, i // 4, i % 4)
        rcol.addLayout(grid)
        split.addWidget(right)
        split.setSizes([600, 740])

    def current(self) -> Stream | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.streams[rows[0].row()] if rows else None

    def set_streams(self, streams: list[Stream]) -> None:
        keep = self.current()
        self.model.set_streams(streams)
        want = keep.id if keep else (self.model.streams[0].id if self.model.streams else None)
        if want is not None:
            self.select(want)

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
        self.range_s = secs
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

    def _selected(self) -> None:
        s = self.current()
        if s is not None:
            self._show(s)

    def _show(self, s: Stream) -> None:
        state = {"ok": "✓ OK", "alarm": "✕ ALARM", "unknown": "? unknown"}[s.state]
        self.caption.setText(f"{s.id} — {state} — {mbps(s.bitrate_bps)}")
        while self.hop_row.count():
            item = self.hop_row.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        first_bad = True
        for i, (label, bad) in enumerate(hops(s)):
            if i:
                self.hop_row.addWidget(QLabel("→"))
            hop = QLabel(("FIRST FAILING HOP\n" if bad and first_bad else "") + label)
            hop.setObjectName("hop")
            hop.setProperty("bad", "true" if bad and first_bad else "false")
            hop.setWordWrap(True)
            first_bad = first_bad and not bad
            self.hop_row.addWidget(hop, 1)
        if self.plot.stream != s.id and self.range_s == 0.0:
            self.plot.show_stream(s.id)
            self.df_plot.show_stream(s.id)
        self.update_counters()

    def update_counters(self) -> None:
        s = self.current()
        errors = self.store.errors(s.id) if s else {}
        for check, lab in self.counters.items():
            v = errors.get(check)
            bad = bool(v)
            lab.setText(f"{'✕ ' if bad else ''}{check}: {fmt.DASH if v is None else f'{v:.0f}'}")
            lab.setProperty("bad", "true" if bad else "false")
            lab.style().unpolish(lab)
            lab.style().polish(lab)

    def show_history(self, series: dict[str, tuple[list[float], list[float | None]]],
                     start: float, end: float) -> None:
        self.plot.show_history(series, start, end)
        self.df_plot.show_history(series, start, end)

    def apply_theme(self, theme: Theme) -> None:
        self.plot.set_theme(theme)
        self.df_plot.set_theme(theme)
        self.model.layoutChanged.emit()
