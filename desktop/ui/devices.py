"""The device table: a Qt model over :class:`desktop.model.DeviceBoard`, and its touch view.

Columns: name, role, vendor, address, state (icon + text), RTT, loss, and an RTT sparkline drawn
from the live ring buffers. Search and role/state filters hide rows (no proxy: row numbers
stay the board's).
"""

from __future__ import annotations

import math
from typing import Any

from desktop.model import DeviceBoard, DeviceRow, SeriesStore, fmt
from desktop.ui.qt import (
    QAbstractItemView,
    QColor,
    QHeaderView,
    QModelIndex,
    QPainter,
    QPen,
    QPersistentModelIndex,
    QPointF,
    QPolygonF,
    QScroller,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QTableView,
    QWidget,
)
from desktop.ui.tablemodel import FlatTableModel
from desktop.ui.theme import TOUCH, Icons

COLUMNS = ("Device", "Role", "Address", "State", "RTT ms", "Loss", "Vendor", "RTT trend")
COL_STATE, COL_RTT, COL_LOSS, COL_VENDOR, COL_SPARK = 3, 4, 5, 6, 7
SPARK_POINTS = 120


class DeviceTableModel(FlatTableModel):
    columns = COLUMNS

    def __init__(self, board: DeviceBoard, parent: QWidget | None = None,
                 store: SeriesStore | None = None) -> None:
        super().__init__(parent)
        self.board = board
        self.store = store

    def spark(self, row: int) -> list[float]:
        """The newest RTT values (ms) of the row's first probe with data, for the sparkline."""
        if self.store is None or not 0 <= row < len(self.board.rows):
            return []
        for key in self.store.keys_for([self.board.rows[row].id]):
            _, v = self.store.arrays(key)
            if len(v):
                return [float(x) for x in v[-SPARK_POINTS:]]
        return []

    def row_count(self) -> int:
        return len(self.board.rows)

    def cell(self, i: int, col: int, role: int) -> Any:
        row = self.board.rows[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_STATE:
            return Icons.state(row.state, self.board.stale)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_RTT, COL_LOSS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{COLUMNS[col]}: {self._text(row, col)}"
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def _text(self, row: DeviceRow, col: int) -> str:
        d = row.device
        if col == 0:
            return d.name
        if col == 1:
            return d.role.value
        if col == 2:
            return d.address
        if col == COL_STATE:
            return f"{row.state.value} (stale)" if self.board.stale else row.state.value
        if col == COL_RTT:
            return fmt.ms(row.rtt_ms)
        if col == COL_LOSS:
            return fmt.pct(row.loss_ratio)
        if col == COL_VENDOR:
            return " ".join(x for x in (d.vendor, d.model) if x) or fmt.DASH
        return ""

    def _tooltip(self, row: DeviceRow) -> str:
        lines = [f"{row.device.name} ({row.device.address})"]
        if row.device.vendor or row.device.model:  # the Vendor column elides a long model
            lines.append(self._text(row, COL_VENDOR))
        for name, p in row.probes.items():
            up = "up" if p.up else "down" if p.up is False else "no result"
            lines.append(f"{name}: {up}, RTT {fmt.ms(p.rtt_ms)} ms, "
                         f"jitter {fmt.ms(p.jitter_ms)} ms, loss {fmt.pct(p.loss_ratio)}")
        if self.board.stale:
            lines.append(f"stale: last live data {fmt.ago(row.last_t)}")
        return "\n".join(lines)

    # --- updates from the session --------------------------------------------------------

    def reset_rows(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def rows_changed(self, rows: set[int]) -> None:
        if not rows:
            return
        self.dataChanged.emit(self.index(min(rows), 0),
                              self.index(max(rows), len(COLUMNS) - 1))

    def all_changed(self) -> None:
        if self.board.rows:
            self.rows_changed({0, len(self.board.rows) - 1})


class SparklineDelegate(QStyledItemDelegate):
    """Draws the RTT trend (min..max scaled to the cell); gaps where the probe had no answer."""

    def __init__(self, model: DeviceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        values = self.source.spark(index.row())
        finite = [v for v in values if not math.isnan(v)]
        if len(finite) < 2:
            return
        r = option.rect.adjusted(4, 8, -4, -8)
        lo, hi = min(finite), max(finite)
        span = (hi - lo) or 1.0
        step = r.width() / max(1, len(values) - 1)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        t = Icons.theme
        painter.setPen(QPen(QColor(t.window if selected else t.accent), 2))
        line: list[QPointF] = []
        for i, v in enumerate(values):
            if math.isnan(v):
                if len(line) > 1:
                    painter.drawPolyline(QPolygonF(line))
                line = []
                continue
            line.append(QPointF(r.left() + i * step, r.bottom() - (v - lo) / span * r.height()))
        if len(line) > 1:
            painter.drawPolyline(QPolygonF(line))
        painter.restore()


class DeviceTableView(QTableView):
    """Tap a row to add it to (or remove it from) the plot; kinetic scrolling by drag."""

    def __init__(self, model: DeviceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setAccessibleName("Devices")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(TOUCH)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 90), (2, 110), (COL_STATE, 130), (COL_RTT, 80), (COL_LOSS, 70),
                           (COL_VENDOR, 130), (COL_SPARK, 120)):
            self.setColumnWidth(col, width)
        self.setItemDelegateForColumn(COL_SPARK, SparklineDelegate(model, self))
        self.setWordWrap(False)
        self.setIconSize(QSize(24, 24))
        QScroller.grabGesture(self.viewport(),
                              QScroller.ScrollerGestureType.LeftMouseButtonGesture)

    def apply_filter(self, text: str, role: str, state: str) -> int:
        """Hide rows that do not match; returns how many stay visible."""
        board = self.model().board  # type: ignore[attr-defined]
        needle = text.strip().lower()
        shown = 0
        for i, row in enumerate(board.rows):
            d = row.device
            hay = " ".join((d.name, d.address, d.vendor, d.model, d.id)).lower()
            ok = (not needle or needle in hay) and (not role or d.role.value == role) and \
                (not state or row.state.value == state)
            self.setRowHidden(i, not ok)
            shown += ok
        return shown

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        model = self.model()
        return [str(model.data(model.index(r, 0), Qt.ItemDataRole.UserRole)) for r in rows]
