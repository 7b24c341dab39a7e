"""The table-model boilerplate the alarm, device and stream tables share: a flat list of rows,
fixed column titles. A subclass names its columns, counts its rows and answers
``cell(row, column, role)``."""

from __future__ import annotations

from typing import Any

from desktop.ui.qt import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class FlatTableModel(QAbstractTableModel):
    columns: tuple[str, ...] = ()

    def row_count(self) -> int:
        raise NotImplementedError

    def cell(self, row: int, col: int, role: int) -> Any:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.row_count():
            return None
        return self.cell(index.row(), index.column(), role)
