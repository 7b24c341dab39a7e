"""One device: identity, state, every probe's figures, its RTT plot, and (operators) the
name/role/notes overrides — saved with ``PATCH /api/v1/devices/{id}`` where the agent has it;
an older agent gets a plain message instead of a broken form."""

from __future__ import annotations

from desktop.model import DeviceRow, SeriesStore, fmt
from desktop.ui.plot import RttPlot
from desktop.ui.qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSize,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP, Icons
from server_agent.contract import DeviceRole


class DevicePage(QWidget):
    back_requested = Signal()
    save_requested = Signal(str, dict)  # device id, changes

    def __init__(self, store: SeriesStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row: DeviceRow | None = None
        self.stale = False
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(GAP)
        head = QHBoxLayout()
        head.setSpacing(GAP)
        self.back = QPushButton("◀ All devices")
        self.back.setAccessibleName("Back to all devices")
        self.back.clicked.connect(self.back_requested)
        head.addWidget(self.back)
        self.icon = QLabel()
        self.icon.setFixedSize(QSize(32, 32))
        head.addWidget(self.icon)
        self.title = QLabel("")
        self.title.setObjectName("title")
        head.addWidget(self.title, 1)
        root.addLayout(head)

        body = QHBoxLayout()
        body.setSpacing(GAP * 2)
        left = QVBoxLayout()
        left.setSpacing(GAP)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        left.addWidget(self.details)
        self.probes = QLabel("")
        self.probes.setWordWrap(True)
        self.probes.setAccessibleName("Probes")
        left.addWidget(self.probes)
        form = QFormLayout()
        form.setSpacing(GAP)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Device name")
        self.role_edit = QComboBox()
        self.role_edit.setAccessibleName("Device role")
        self.role_edit.addItems([r.value for r in DeviceRole])
        self.notes_edit = QLineEdit()
        self.notes_edit.setAccessibleName("Device notes")
        self.notes_edit.setPlaceholderText("e.g. rack 2, slot 4; spare PSU")
        form.addRow("Name", self.name_edit)
        form.addRow("Role", self.role_edit)
        form.addRow("Notes", self.notes_edit)
        left.addLayout(form)
        self.save = QPushButton("Save changes")
        self.save.setObjectName("primary")
        self.save.clicked.connect(self._save)
        left.addWidget(self.save)
        self.edit_note = QLabel("")
        self.edit_note.setWordWrap(True)
        left.addWidget(self.edit_note)
        left.addStretch(1)
        box = QWidget()
        box.setLayout(left)
        box.setMaximumWidth(520)
        body.addWidget(box)
        self.plot = RttPlot(store)
        body.addWidget(self.plot, 1)
        root.addLayout(body, 1)
        self.can_edit = False
        self.edit_available = True

    def set_can_edit(self, can: bool) -> None:
        self.can_edit = can
        self._edit_state()

    def set_edit_unavailable(self, text: str) -> None:
        self.edit_available = False
        self.edit_note.setText(f"✕ {text}")
        self._edit_state()

    def _edit_state(self) -> None:
        on = self.can_edit and self.edit_available
        for w in (self.name_edit, self.role_edit, self.notes_edit, self.save):
            w.setEnabled(on)
        if not self.can_edit:
            self.edit_note.setText("Editing needs the operator role.")

    def show_device(self, row: DeviceRow) -> None:
        first = self.row is None or self.row.id != row.id
        self.row = row
        d = row.device
        self.icon.setPixmap(Icons.state(row.state, self.stale).pixmap(QSize(28, 28)))
        stale = " (stale)" if self.stale else ""
        self.title.setText(f"{d.name} — {row.state.value.upper()}{stale}")
        self.details.setText(
            f"Role: {d.role.value}    Address: {d.address}\n"
            f"Vendor: {d.vendor or fmt.DASH}    Model: {d.model or fmt.DASH}\n"
            f"Id: {d.id}    RTT budget: {fmt.ms(d.rtt_budget_ms)} ms")
        lines = []
        for name, p in row.probes.items():
            up = "✓ up" if p.up else "✕ DOWN" if p.up is False else "? no result"
            lines.append(f"{name}: {up} — RTT {fmt.ms(p.rtt_ms)} ms, jitter "
                         f"{fmt.ms(p.jitter_ms)} ms, loss {fmt.pct(p.loss_ratio)}, "
                         f"{fmt.ago(p.t)}")
        self.probes.setText("Probes:\n" + ("\n".join(lines) or "none"))
        if first:
            self.name_edit.setText(d.name)
            self.role_edit.setCurrentText(d.role.value)
            self.notes_edit.setText(str(getattr(d, "notes", "") or ""))
            self.plot.show_devices([d.id])
        self._edit_state()

    def saved(self, text: str) -> None:
        self.save.setEnabled(True)
        self.edit_note.setText(f"✓ {text}")

    def _save(self) -> None:
        if self.row is None:
            return
        d = self.row.device
        changes: dict[str, str] = {}
        if self.name_edit.text().strip() and self.name_edit.text().strip() != d.name:
            changes["name"] = self.name_edit.text().strip()
        if self.role_edit.currentText() != d.role.value:
            changes["role"] = self.role_edit.currentText()
        changes["notes"] = self.notes_edit.text().strip()
        self.save.setEnabled(False)
        self.edit_note.setText("saving…")
        self.save_requested.emit(d.id, changes)
