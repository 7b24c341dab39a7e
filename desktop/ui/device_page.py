"""One device: identity, state, every probe's figures, its RTT plot, and (operators) the
name/role/notes overrides — saved with ``PATCH /api/v1/devices/{id}`` where the agent has it
(configured, simulated and discovered devices alike); an older agent gets a plain message
instead of a broken form. The role is a row of buttons, not a list to type into; a name is
checked before it is sent (the agent's rule: letters, digits, ``.``, ``_``, ``-``)."""

from __future__ import annotations

import re

from desktop.model import DeviceRow, SeriesStore, fmt
from desktop.ui.pickers import ChoiceButtons
from desktop.ui.plot import RttPlot
from desktop.ui.qt import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP, Icons
from desktop.ui.touch import kinetic
from server_agent.contract import DeviceRole

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # contract.DevicePatch.name


class DevicePage(QWidget):
    back_requested = Signal()
    save_requested = Signal(str, dict)  # device id, changes (None removes an override)

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
        self.name_edit.setPlaceholderText("empty: the configured name")
        self.role_edit = ChoiceButtons([r.value for r in DeviceRole], "Device role")
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
        # scrolls (kinetic) rather than squeezing the role buttons on a 768 px screen
        area = self.form_area = kinetic(QScrollArea())
        area.setWidget(box)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setMaximumWidth(540)
        area.setMinimumWidth(420)
        body.addWidget(area)
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
            f"Id: {d.id}    RTT budget: {fmt.ms(d.rtt_budget_ms)} ms\n"
            f"Set by hand: {', '.join(d.overrides) or 'nothing'}")
        lines = []
        for name, p in row.probes.items():
            up = "✓ up" if p.up else "✕ DOWN" if p.up is False else "? no result"
            lines.append(f"{name}: {up} — RTT {fmt.ms(p.rtt_ms)} ms, jitter "
                         f"{fmt.ms(p.jitter_ms)} ms, loss {fmt.pct(p.loss_ratio)}, "
                         f"{fmt.ago(p.t)}")
        self.probes.setText("Probes:\n" + ("\n".join(lines) or "none"))
        if first:
            self.name_edit.setText(d.name)
            self.role_edit.set_value(d.role.value)
            self.notes_edit.setText(d.notes)
            self.plot.show_devices([d.id])
        self._edit_state()

    def saved(self, text: str) -> None:
        self.save.setEnabled(True)
        self.edit_note.setText(f"✓ {text}")

    def _save(self) -> None:
        if self.row is None:
            return
        d = self.row.device
        changes: dict[str, str | None] = {}
        name = self.name_edit.text().strip()
        if name and not NAME.match(name):
            self.edit_note.setText(f"✕ not saved: the name {name!r} may hold only letters, "
                                   "digits, '.', '_' and '-' (at most 63, starting with a "
                                   "letter or digit)")
            return
        if name != d.name:
            changes["name"] = name or None  # empty: back to the configured name
        role = self.role_edit.value()
        if role is not None and role != d.role.value:
            changes["role"] = role
        changes["notes"] = self.notes_edit.text().strip()
        self.save.setEnabled(False)
        self.edit_note.setText("saving…")
        self.save_requested.emit(d.id, changes)
