"""The wizard's flypack settings page: id, management network, monitored networks (media NIC
toggles, VLAN steppers, interface pickers filled from the target), each problem shown under
its field (mapping in :mod:`desktop.provisioning.form`)."""

from __future__ import annotations

from desktop.provisioning.form import FormValues, NetworkRow, build
from desktop.provisioning.settings import FlypackSettings
from desktop.ui.qt import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP, TOUCH
from desktop.ui.wizard_pages import Page

__all__ = ["NetworkEditor", "SettingsPage"]


def _picker(name: str, choices: list[str]) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)  # a NIC the target does not have yet (VLAN parent, USB NIC)
    box.setAccessibleName(name)
    box.addItems(choices)
    return box


def _error_label() -> QLabel:
    label = QLabel("")
    label.setObjectName("fieldError")
    label.setStyleSheet("font-weight: 700;")  # with the ✕: not told by colour alone
    label.setWordWrap(True)
    label.hide()
    return label


class NetworkEditor(QWidget):
    """One monitored network: interface, address/prefix, VLAN (0 = untagged), media toggle."""

    remove_requested = Signal(object)

    def __init__(self, number: int, interfaces: list[str], row: NetworkRow,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        line = QHBoxLayout()
        line.setSpacing(GAP)
        self.label = QLabel(f"Network {number}")
        self.interface = _picker(f"Network {number} interface", interfaces)
        self.interface.setCurrentText(row.interface)
        self.address = QLineEdit(row.address)
        self.address.setPlaceholderText("10.0.0.5/16")
        self.address.setAccessibleName(f"Network {number} address")
        self.vlan = QSpinBox()
        self.vlan.setRange(0, 4094)
        self.vlan.setSpecialValueText("no VLAN")
        self.vlan.setPrefix("VLAN ")
        self.vlan.setValue(row.vlan)
        self.vlan.setAccessibleName(f"Network {number} VLAN")
        self.media = QPushButton()
        self.media.setCheckable(True)
        self.media.setAccessibleName(f"Network {number} carries media")
        self.media.toggled.connect(self._media_text)
        self.media.setChecked(row.media)
        self._media_text(row.media)
        self.remove = QPushButton("✕")
        self.remove.setAccessibleName(f"Remove network {number}")
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        line.addWidget(self.label)
        line.addWidget(self.interface, 2)
        line.addWidget(self.address, 3)
        line.addWidget(self.vlan, 2)
        line.addWidget(self.media, 2)
        line.addWidget(self.remove)
        col.addLayout(line)
        self.error = _error_label()
        col.addWidget(self.error)

    def _media_text(self, on: bool) -> None:
        self.media.setText("▶ Media NIC" if on else "Control only")

    def value(self) -> NetworkRow:
        return NetworkRow(self.interface.currentText().strip(), self.address.text().strip(),
                          self.vlan.value(), self.media.isChecked())


class SettingsPage(Page):
    title = "Flypack settings"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("How the server is set up. Media NICs pass multicast and SRT/RTP "
                         "through the firewall and get loose reverse-path filtering (SSM, "
                         "2022-7 legs). Networks must not overlap.", parent)
        self.interfaces: list[str] = []
        self.errors: dict[str, QLabel] = {}
        form = QGridLayout()  # two columns of fields: fits 1366x768 without scrolling
        form.setHorizontalSpacing(GAP * 2)
        form.setVerticalSpacing(GAP)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        self.flypack_id = self._line(form, (0, 0), "flypack_id", "Flypack id", "flypack-01")
        self.mgmt_interface = _picker("Management interface", [])
        self._row(form, (1, 0), "mgmt_interface", "Management NIC", self.mgmt_interface)
        self.mgmt_address = self._line(form, (2, 0), "mgmt_address", "Management address",
                                       "192.168.1.10/24")
        self.mgmt_gateway = self._line(form, (3, 0), "mgmt_gateway", "Gateway", "optional")
        self.dns = self._line(form, (0, 2), "dns", "DNS servers", "optional, e.g. 192.168.1.1")
        self.ntp = self._line(form, (1, 2), "ntp", "NTP servers", "optional, e.g. 192.168.1.1")
        self.admin_user = self._line(form, (2, 2), "admin_user", "Agent admin user", "admin")
        self.admin_user.setText("admin")
        self.agent_port = QSpinBox()
        self.agent_port.setRange(1, 65535)
        self.agent_port.setValue(8443)
        self.agent_port.setAccessibleName("Agent port")
        self._row(form, (3, 2), "agent_port", "Agent port (HTTPS)", self.agent_port)
        self.body.addLayout(form)
        title = QLabel("Monitored networks")
        title.setObjectName("sectionTitle")
        self.body.addWidget(title)
        self.net_rows = QVBoxLayout()
        self.net_rows.setSpacing(GAP)
        self.body.addLayout(self.net_rows)
        self.add_net = QPushButton("+ Add monitored network")
        self.add_net.clicked.connect(lambda: self.add_network(NetworkRow("", "")))
        row = QHBoxLayout()
        row.addWidget(self.add_net)
        row.addStretch(1)
        self.body.addLayout(row)
        self.form_error = _error_label()
        self.body.addWidget(self.form_error)
        self.editors: list[NetworkEditor] = []
        self.finish()

    def _row(self, form: QGridLayout, at: tuple[int, int], key: str, label: str,
             w: QWidget) -> None:
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(w)
        self.errors[key] = _error_label()
        col.addWidget(self.errors[key])
        text = QLabel(label)
        text.setBuddy(w)
        form.addWidget(text, at[0], at[1], Qt.AlignmentFlag.AlignTop)
        text.setMinimumHeight(TOUCH)  # centred on the first line of the field
        text.setAlignment(Qt.AlignmentFlag.AlignVCenter)
        form.addWidget(box, at[0], at[1] + 1)

    def _line(self, form: QGridLayout, at: tuple[int, int], key: str, label: str,
              placeholder: str) -> QLineEdit:
        e = QLineEdit()
        e.setPlaceholderText(placeholder)
        e.setAccessibleName(label)
        self._row(form, at, key, label, e)
        return e

    def set_interfaces(self, names: list[str], addresses: dict[str, str]) -> None:
        """Pickers offer the target's NICs; the management fields start from the NIC that
        already has an address (only where the technician typed nothing yet)."""
        self.interfaces = names
        current = self.mgmt_interface.currentText()
        self.mgmt_interface.clear()
        self.mgmt_interface.addItems(names)
        if current:
            self.mgmt_interface.setCurrentText(current)
        elif addresses:
            first = next(iter(addresses))
            self.mgmt_interface.setCurrentText(first)
            if not self.mgmt_address.text():
                self.mgmt_address.setText(addresses[first])
        for e in self.editors:
            text = e.interface.currentText()
            e.interface.clear()
            e.interface.addItems(names)
            e.interface.setCurrentText(text)

    def add_network(self, row: NetworkRow) -> NetworkEditor:
        e = NetworkEditor(len(self.editors) + 1, self.interfaces, row)
        e.remove_requested.connect(self._remove)
        self.editors.append(e)
        self.net_rows.addWidget(e)
        return e

    def _remove(self, editor: object) -> None:
        if isinstance(editor, NetworkEditor) and editor in self.editors:
            rows = [e.value() for e in self.editors if e is not editor]
            for e in self.editors:
                e.deleteLater()
            self.editors = []
            for r in rows:
                self.add_network(r)

    def values(self) -> FormValues:
        return FormValues(
            flypack_id=self.flypack_id.text(), mgmt_interface=self.mgmt_interface.currentText(),
            mgmt_address=self.mgmt_address.text(), mgmt_gateway=self.mgmt_gateway.text(),
            dns=self.dns.text(), ntp=self.ntp.text(), admin_user=self.admin_user.text(),
            agent_port=self.agent_port.value(), networks=[e.value() for e in self.editors])

    def fill(self, v: FormValues) -> None:
        self.flypack_id.setText(v.flypack_id)
        self.mgmt_interface.setCurrentText(v.mgmt_interface)
        self.mgmt_address.setText(v.mgmt_address)
        self.mgmt_gateway.setText(v.mgmt_gateway)
        self.dns.setText(v.dns)
        self.ntp.setText(v.ntp)
        self.admin_user.setText(v.admin_user)
        self.agent_port.setValue(v.agent_port)
        for e in self.editors:
            e.deleteLater()
        self.editors = []
        for r in v.networks:
            self.add_network(r)

    def check(self) -> FlypackSettings | None:
        """Validate; show each problem under its field. The settings, or None."""
        settings, problems = build(self.values())
        labels = {**self.errors, "form": self.form_error,
                  **{f"net:{i}": e.error for i, e in enumerate(self.editors, 1)}}
        for key, label in labels.items():
            messages = problems.pop(key, [])
            label.setText("\n".join(f"✕ {m}" for m in messages))
            label.setVisible(bool(messages))
        leftover = [m for ms in problems.values() for m in ms]  # a field we do not show
        if leftover:
            self.form_error.setText("\n".join(f"✕ {m}" for m in leftover))
            self.form_error.show()
        has_errors = any(not label.isHidden() for label in labels.values())
        first = next((label for label in labels.values() if not label.isHidden()), None)
        if first is not None:
            self.area.ensureWidgetVisible(first, 0, TOUCH * 2)
        return None if has_errors or leftover else settings

    @property
    def problem_count(self) -> int:
        labels = [*self.errors.values(), self.form_error, *(e.error for e in self.editors)]
        return sum(label.text().count("✕ ") for label in labels if not label.isHidden())
