"""The wizard's first pages: target (where and how to log in), host key (confirm, remember),
preflight (ok/warn/fail per check). Widgets only; the controller (:mod:`desktop.ui.wizard`)
runs the SSH work on worker threads and fills these pages in."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.provisioning.preflight import Check
from desktop.provisioning.settings import Target
from desktop.ui.qt import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP, Icons
from desktop.ui.touch import kinetic
from server_agent.contract import DeviceState

__all__ = ["HostKeyPage", "Page", "PreflightPage", "TargetPage", "check_line"]


class Page(QWidget):
    """A titled page whose body scrolls (kinetic) so it fits 1366x768 and smaller."""

    title = ""

    def __init__(self, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.area = kinetic(QScrollArea())
        self.area.setWidgetResizable(True)
        inner = QWidget()
        self.body = QVBoxLayout(inner)
        self.body.setSpacing(GAP)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.body.addWidget(self.intro)
        self.area.setWidget(inner)
        outer.addWidget(self.area)

    def add_heading(self, text: str = "", name: str = "") -> QLabel:
        """A wrapped status heading (the theme's section title) added to the body."""
        lab = QLabel(text)
        lab.setObjectName("sectionTitle")
        lab.setWordWrap(True)
        if name:
            lab.setAccessibleName(name)
        self.body.addWidget(lab)
        return lab

    def finish(self) -> None:
        self.body.addStretch(1)


def _line(name: str, placeholder: str = "", secret: bool = False) -> QLineEdit:
    e = QLineEdit()
    e.setAccessibleName(name)
    e.setPlaceholderText(placeholder)
    if secret:
        e.setEchoMode(QLineEdit.EchoMode.Password)
    return e


class TargetPage(Page):
    title = "Target"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("The machine that becomes the flypack server: a fresh Debian 12 "
                         "(bookworm) with SSH. Nothing is changed on it before the review "
                         "page.", parent)
        form = QFormLayout()
        form.setSpacing(GAP)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.host = _line("Host", "address of the new server, e.g. 192.168.1.10")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(22)
        self.port.setAccessibleName("SSH port")
        self.user = _line("SSH user", "root, or a user with sudo")
        self.user.setText("root")
        mode = QHBoxLayout()
        self.use_password = QPushButton("Password")
        self.use_key = QPushButton("Key file")
        for b in (self.use_password, self.use_key):
            b.setCheckable(True)
            mode.addWidget(b)
        mode.addStretch(1)
        self.use_password.setChecked(True)
        self.use_password.clicked.connect(lambda: self._mode(False))
        self.use_key.clicked.connect(lambda: self._mode(True))
        self.password = _line("Password", "the SSH user's password", secret=True)
        self.key_file = _line("Key file", "~/.ssh/id_ed25519")
        self.become = _line("Sudo password", "only when the user is not root and sudo asks",
                            secret=True)
        self.bundle = _line("Offline bundle", "flypack-bundle-*.tar (packages, wheels, images)")
        self.mirror = _line("Package mirror", "optional: http://mirror:3142/debian")
        form.addRow("Host", self.host)
        form.addRow("SSH port", self.port)
        form.addRow("User", self.user)
        form.addRow("Log in with", mode)
        form.addRow("Password / passphrase", self.password)
        self.key_label = QLabel("Private key file")
        form.addRow(self.key_label, self.key_file)
        self.become_label = QLabel("Sudo password")
        form.addRow(self.become_label, self.become)
        form.addRow("Offline bundle", self.bundle)
        form.addRow("Package mirror", self.mirror)
        box = QWidget()
        box.setLayout(form)
        box.setMaximumWidth(1000)
        self.body.addWidget(box)
        self.user.textChanged.connect(self._user_changed)
        self._mode(False)
        self._user_changed(self.user.text())
        self.finish()

    def _mode(self, key: bool) -> None:
        self.use_key.setChecked(key)
        self.use_password.setChecked(not key)
        self.key_file.setVisible(key)
        self.key_label.setVisible(key)
        self.password.setPlaceholderText("the key's passphrase (empty if none)" if key
                                         else "the SSH user's password")

    def _user_changed(self, user: str) -> None:
        show = user.strip() not in ("", "root")
        self.become.setVisible(show)
        self.become_label.setVisible(show)

    def target(self) -> Target:
        key = os.path.expanduser(self.key_file.text().strip()) if self.use_key.isChecked() \
            else None
        return Target(host=self.host.text().strip(), port=self.port.value(),
                      user=self.user.text().strip(), password=self.password.text() or None,
                      key_file=key or None,
                      become_password=(self.become.text() or None)
                      if self.become.isVisible() else None)

    def bundle_path(self) -> Path | None:
        text = self.bundle.text().strip()
        return Path(os.path.expanduser(text)) if text else None

    def mirror_url(self) -> str | None:
        return self.mirror.text().strip() or None


class HostKeyPage(Page):
    title = "Host key"
    trusted = Signal()
    rejected = Signal()
    forget_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.fingerprint = QLabel("")
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setAccessibleName("SSH host key fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.fingerprint)
        self.state = self.add_heading()
        row = QHBoxLayout()
        self.trust = QPushButton("✓ It matches — trust and remember this key")
        self.trust.setObjectName("primary")
        self.trust.clicked.connect(self.trusted)
        self.reject = QPushButton("✕ It does not match — stop")
        self.reject.clicked.connect(self.rejected)
        self.forget = QPushButton("Forget the old key")
        self.forget.clicked.connect(self.forget_requested)
        for b in (self.trust, self.reject, self.forget):
            row.addWidget(b)
        row.addStretch(1)
        self.body.addLayout(row)
        self.finish()
        self.confirmed = False

    def show_key(self, where: str, key_type: str, fingerprint: str, status: str,
                 remembered: str = "") -> None:
        """status: 'new' (confirm it), 'known' (matches), 'changed' (stop, warn)."""
        self.fingerprint.setText(f"{key_type}\n{fingerprint}")
        self.confirmed = status == "known"
        self.trust.setVisible(status == "new")
        self.reject.setVisible(status == "new")
        self.forget.setVisible(status == "changed")
        if status == "new":
            self.intro.setText(
                f"First contact with {where}. Compare this fingerprint with the one the "
                "machine's console shows (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); "
                "trust it only if they match.")
            self.state.setText("? Not confirmed yet")
        elif status == "known":
            self.intro.setText(f"{where} presented the host key remembered earlier.")
            self.state.setText("✓ Same key as remembered — confirmed")
        else:
            self.intro.setText(f"{where} presented a DIFFERENT host key than the one "
                               f"remembered ({remembered}). Nothing was sent to it.")
            self.state.setText("✕ Host key changed — stopped. If the machine was reinstalled, "
                               "check the new key on its console, then forget the old one.")

    def set_confirmed(self) -> None:
        self.confirmed = True
        self.trust.hide()
        self.reject.hide()
        self.state.setText("✓ Trusted and remembered on this laptop")


_ICON = {"ok": DeviceState.up, "warn": DeviceState.degraded, "fail": DeviceState.down}
_WORD = {"ok": "OK", "warn": "WARNING", "fail": "MUST FIX"}


def check_line(c: Check) -> str:
    text = f"{_WORD[c.status]} · {c.title}: {c.detail}"
    return text + (f"\n→ {c.hint}" if c.hint else "")


class PreflightPage(Page):
    title = "Checks"
    rerun_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Read-only checks on the target: nothing is changed.", parent)
        self.summary = self.add_heading()
        self.rows = QVBoxLayout()
        self.rows.setSpacing(GAP)
        self.body.addLayout(self.rows)
        self.rerun = QPushButton("↻ Run the checks again")
        self.rerun.clicked.connect(self.rerun_requested)
        row = QHBoxLayout()
        row.addWidget(self.rerun)
        row.addStretch(1)
        self.body.addLayout(row)
        self.finish()
        self.checks: list[Check] = []
        self.lines: list[QLabel] = []

    def set_busy(self, text: str) -> None:
        self.summary.setText(text)
        self.rerun.setEnabled(False)

    def show_checks(self, checks: list[Check]) -> None:
        self.checks = checks
        while self.rows.count():
            item = self.rows.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.lines = []
        for c in checks:
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            icon = QLabel()
            icon.setPixmap(Icons.state(_ICON[c.status]).pixmap(32, 32))
            icon.setAlignment(Qt.AlignmentFlag.AlignTop)
            text = QLabel(check_line(c))
            text.setWordWrap(True)
            text.setAccessibleName(f"check {c.key}")
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(icon)
            lay.addWidget(text, 1)
            self.rows.addWidget(row)
            self.lines.append(text)
        fails = sum(c.status == "fail" for c in checks)
        warns = sum(c.status == "warn" for c in checks)
        self.summary.setText(
            f"✕ {fails} problem(s) must be fixed first, then run the checks again" if fails
            else f"! All required checks passed, {warns} warning(s): read them" if warns
            else "✓ All checks passed")
        self.rerun.setEnabled(True)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and not any(c.status == "fail" for c in self.checks)
