"""The device table: a Qt model over :class:`desktop.model.DeviceBoard`, and its touch view."""

from __future__ import annotations

from typing import Any

from desktop.model import DeviceBoard, DeviceRow, fmt
from desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QHeaderView,
    QModelIndex,
    QPersistentModelIndex,
    QScroller,
    QSize,
    Qt,
    QTableView,
    QWidget,
)
from desktop.ui.theme import TOUCH, Icons

COLUMNS = ("Device", "Role", "Address", "State", "RTT ms", "Loss")
COL_STATE, COL_RTT, COL_LOSS = 3, 4, 5
_Index = QModelIndex | QPersistentModelIndex


class DeviceTableModel(QAbstractTableModel):
    def __init__(self, board: DeviceBoard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.board = board

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.board.rows)

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
        row = self.board.rows[index.row()]
        col = index.column()
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
        return fmt.pct(row.loss_ratio)

    def _tooltip(self, row: DeviceRow) -> str:
        lines = [f"{row.device.name} ({row.device.address})"]
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
        for col, width in ((1, 90), (2, 120), (COL_STATE, 150), (COL_RTT, 90), (COL_LOSS, 80)):
            self.setColumnWidth(col, width)
        self.setWordWrap(False)
        self.setIconSize(QSize(24, 24))
        QScroller.grabGesture(self.viewport(),
                              QScroller.ScrollerGestureType.LeftMouseButtonGesture)

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        model = self.model()
        return [str(model.data(model.index(r, 0), Qt.ItemDataRole.UserRole)) for r in rows]
