"""The alarm list: severity (icon + text), device, message, since, acknowledgement.

Operators and admins get an "Acknowledge" button for the selected alarm; viewers see why not.
The list shows a plain message instead when the agent has no alarm API yet.
"""

from __future__ import annotations

import time
from typing import Any

from desktop.model import fmt
from desktop.ui.qt import (
    QAbstractItemView,
    QBrush,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScroller,
    QSize,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.tablemodel import FlatTableModel
from desktop.ui.theme import GAP, TOUCH, Icons
from server_agent.contract import Alarm

COLUMNS = ("Severity", "Device", "Message", "Since", "Ack")
_ORDER = {"critical": 0, "major": 1, "minor": 2, "warning": 3}


def sort_alarms(alarms: list[Alarm]) -> list[Alarm]:
    """Active first, then unacknowledged, then by severity, newest first."""
    return sorted(alarms, key=lambda a: (not a.active, a.acked_at is not None,
                                         _ORDER[a.severity.value], -a.raised_at))


class AlarmTableModel(FlatTableModel):
    columns = COLUMNS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alarms: list[Alarm] = []

    def set_alarms(self, alarms: list[Alarm]) -> None:
        self.beginResetModel()
        self.alarms = sort_alarms(alarms)
        self.endResetModel()

    def row_count(self) -> int:
        return len(self.alarms)

    def cell(self, i: int, col: int, role: int) -> Any:
        a = self.alarms[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(a, col)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return Icons.severity(a.severity) if a.active else Icons.cleared()
        if role == Qt.ItemDataRole.ForegroundRole and not a.active:
            return QBrush(QColor(Icons.theme.muted))  # besides the icon and the words
        if role == Qt.ItemDataRole.ToolTipRole:
            cleared = f", cleared {fmt.clock(a.cleared_at)}" if a.cleared_at else ""
            return (f"{a.message}\n{a.rule} ({a.key}), raised {fmt.clock(a.raised_at)}"
                    f"{cleared}")
        return None

    @staticmethod
    def text(a: Alarm, col: int, now: float | None = None) -> str:
        if col == 0:
            return a.severity.value if a.active else f"cleared ({a.severity.value})"
        if col == 1:
            return a.device or a.stream or fmt.DASH
        if col == 2:
            return a.message
        if col == 3:
            if not a.active and a.cleared_at is not None:
                return f"cleared {fmt.ago(a.cleared_at, now)}"
            return fmt.ago(a.raised_at, now)
        return f"✓ {a.acked_by}" if a.acked_by else "—"


class AlarmPanel(QWidget):
    ack_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = AlarmTableModel(self)
        self.can_ack = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(GAP)
        head = QHBoxLayout()
        head.setSpacing(GAP)
        self.title = QLabel("Alarms")
        self.title.setObjectName("sectionTitle")
        head.addWidget(self.title, 1)
        self.all_alarms: list[Alarm] = []
        self.severity_filter: str = ""
        self.filter_buttons: dict[str, QPushButton] = {}
        for label, sev in (("All", ""), ("Critical", "critical"), ("Major", "major"),
                           ("Minor", "minor"), ("Warning", "warning")):
            b = QPushButton(label)
            b.setCheckable(True)
            b.setChecked(sev == "")
            b.setAccessibleName(f"Show {label.lower()} alarms")
            b.clicked.connect(lambda _=False, s=sev: self.set_severity_filter(s))
            head.addWidget(b)
            self.filter_buttons[sev] = b
        self.show_cleared = True
        self.cleared_button = QPushButton("Hide cleared")
        self.cleared_button.setAccessibleName("Show or hide cleared alarms")
        self.cleared_button.setToolTip("cleared alarms are listed after the active ones, "
                                       "grey, with a ✓ icon")
        self.cleared_button.clicked.connect(lambda: self.set_show_cleared(not self.show_cleared))
        head.addWidget(self.cleared_button)
        self.ack_button = QPushButton("✓ Acknowledge")
        self.ack_button.setAccessibleName("Acknowledge selected alarm")
        self.ack_button.setEnabled(False)
        self.ack_button.clicked.connect(self._ack)
        head.addWidget(self.ack_button)
        lay.addLayout(head)

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAccessibleName("Alarms")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(TOUCH)
        self.view.setIconSize(QSize(24, 24))
        self.view.setWordWrap(True)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 190), (1, 110), (3, 170), (4, 100)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().selectionChanged.connect(self._update_button)
        QScroller.grabGesture(self.view.viewport(),
                              QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        lay.addWidget(self.view, 1)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)

    def set_role_can_ack(self, can_ack: bool) -> None:
        self.can_ack = can_ack
        self.ack_button.setText("✓ Acknowledge" if can_ack else "Ack needs operator role")
        self.ack_button.setToolTip("" if can_ack else "acknowledging needs the operator role")
        self._update_button()

    def set_severity_filter(self, severity: str) -> None:
        self.severity_filter = severity
        for sev, b in self.filter_buttons.items():
            b.setChecked(sev == severity)
        self.set_alarms(self.all_alarms)

    def set_show_cleared(self, show: bool) -> None:
        self.show_cleared = show
        self.cleared_button.setText("Hide cleared" if show else "Show cleared")
        self.set_alarms(self.all_alarms)

    def select_alarm(self, alarm_id: int) -> bool:
        for row, a in enumerate(self.model.alarms):
            if a.id == alarm_id:
                self.view.selectRow(row)
                return True
        return False

    def set_alarms(self, alarms: list[Alarm]) -> None:
        selected = self.selected()
        self.all_alarms = list(alarms)
        if self.severity_filter:
            alarms = [a for a in alarms if a.severity.value == self.severity_filter]
        active = sum(1 for a in alarms if a.active)
        cleared = len(alarms) - active
        if not self.show_cleared:
            alarms = [a for a in alarms if a.active]
        self.model.set_alarms(alarms)
        hidden = "" if self.show_cleared else " hidden"
        self.title.setText((f"Alarms — {active} active" + (f" · {cleared} cleared{hidden}"
                                                             if cleared else ""))
                           if active or cleared else "Alarms — none")
        none = "No active alarms" if cleared else "No alarms"
        self.note.setText("" if alarms else f"{none} (checked {fmt.clock(time.time())}).")
        if selected is not None:
            for row, a in enumerate(self.model.alarms):
                if a.id == selected.id:
                    self.view.selectRow(row)
        self._update_button()

    def set_unavailable(self, text: str) -> None:
        self.model.set_alarms([])
        self.title.setText("Alarms — unavailable")
        self.note.setText(text)
        self._update_button()

    def selected(self) -> Alarm | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.alarms[rows[0].row()] if rows else None

    def _update_button(self) -> None:
        a = self.selected()
        self.ack_button.setEnabled(self.can_ack and a is not None and a.acked_at is None)

    def _ack(self) -> None:
        a = self.selected()
        if a is not None:
            self.ack_button.setEnabled(False)
            self.ack_requested.emit(a.id)
