"""Add a flypack (or log in to a known one): URL -> first-contact certificate fingerprint to
confirm (https) -> user, password, remember -> log in. No modal dialog: every step is a
panel on this page and the controller (:mod:`desktop.ui.fleet`) runs the coroutines."""

from __future__ import annotations

from desktop.ui import fields
from desktop.ui.qt import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP

CARD_WIDTH = 760


class AddFlypackView(QWidget):
    check_requested = Signal(str)  # url
    trust_requested = Signal()
    login_requested = Signal(str, str, str, bool)  # url, user, password, remember
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(GAP * 4, GAP * 2, GAP * 4, GAP * 2)
        card = QWidget()
        card.setObjectName("addCard")
        card.setMaximumWidth(CARD_WIDTH)
        col = QVBoxLayout(card)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(GAP)
        head = QHBoxLayout()  # the way back, on every step
        head.setSpacing(GAP * 2)
        self.back = QPushButton("◀ Fleet")
        self.back.setAccessibleName("Back to the fleet overview")
        self.back.setToolTip("Back to the fleet overview (nothing is added)")
        self.back.clicked.connect(self.cancel_requested)
        head.addWidget(self.back)
        self.title = QLabel("Add a flypack")
        self.title.setObjectName("title")
        head.addWidget(self.title, 1)
        col.addLayout(head)
        row = QHBoxLayout()
        row.setSpacing(GAP)
        self.url = fields.url_edit()
        self.check = QPushButton("Connect")
        self.check.clicked.connect(lambda: self.check_requested.emit(self.url.text().strip()))
        self.url.returnPressed.connect(self.check.click)
        row.addWidget(self.url, 1)
        row.addWidget(self.check)
        col.addLayout(row)

        self.cert = QFrame()
        cert_col = QVBoxLayout(self.cert)
        cert_col.setContentsMargins(0, 0, 0, 0)
        self.cert_text = QLabel("")
        self.cert_text.setWordWrap(True)
        cert_col.addWidget(self.cert_text)
        self.fingerprint = QLabel("")
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setAccessibleName("Certificate fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cert_col.addWidget(self.fingerprint)
        brow = QHBoxLayout()
        self.trust = QPushButton("✓ Fingerprint matches — trust and pin")
        self.trust.setObjectName("primary")
        self.trust.clicked.connect(self.trust_requested)
        self.reject = QPushButton("✕ Does not match — cancel")
        self.reject.clicked.connect(self.cancel_requested)
        brow.addWidget(self.trust)
        brow.addWidget(self.reject)
        cert_col.addLayout(brow)
        col.addWidget(self.cert)

        self.login = QFrame()
        form = QFormLayout(self.login)
        form.setSpacing(GAP)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.user = fields.user_edit()
        self.password = fields.password_edit()
        self.remember = QCheckBox("Remember me on this laptop (system keyring)")
        self.remember.setChecked(True)
        self.keyring_note = QLabel("")  # why only for this session (no secure keyring)
        self.keyring_note.setObjectName("muted")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.hide()
        form.addRow(fields.form_label("User"), self.user)
        form.addRow(fields.form_label("Password"), self.password)
        keep = QWidget()  # the choice and, without a keyring, why it lasts this session only
        keep_col = QVBoxLayout(keep)
        keep_col.setContentsMargins(0, 0, 0, 0)
        keep_col.setSpacing(0)
        keep_col.addWidget(self.remember)
        keep_col.addWidget(self.keyring_note)
        form.addRow("", keep)
        self.login_button = QPushButton("Log in")
        self.login_button.setObjectName("primary")
        self.login_button.clicked.connect(self._login)
        self.password.returnPressed.connect(self._login)
        form.addRow("", self.login_button)
        col.addWidget(self.login)
        self.message = fields.status_label("Status")
        col.addWidget(self.message)
        centre = QHBoxLayout()  # up to CARD_WIDTH wide, centred; narrower on a small screen
        centre.addStretch(1)
        centre.addWidget(card, 10)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(1)
        self.reset()

    def reset(self, url: str = "", user: str = "", known: bool = False) -> None:
        self.title.setText("Log in to the flypack" if known else "Add a flypack")
        self.url.setText(url)
        self.url.setEnabled(not known)
        self.check.setVisible(not known)
        self.user.setText(user)
        self.password.clear()
        self.cert.hide()
        self.login.setVisible(known)
        self.message.setText("" if known else
                             "Enter the agent's URL. With https you will confirm its "
                             "certificate fingerprint once.")
        self.check.setEnabled(True)

    def set_keyring(self, persistent: bool, problem: str | None) -> None:
        if persistent:
            self.remember.setText("Remember me on this laptop (system keyring)")
            self.keyring_note.hide()
            return
        self.remember.setText("Remember for this session only (in memory)")
        self.remember.setChecked(True)
        why = (problem or "no secure keyring is available").rstrip(".")
        self.keyring_note.setText(f"{why[:1].upper()}{why[1:]}: the login is forgotten "
                                  "when the app closes.")
        self.remember.setToolTip(self.keyring_note.text())
        self.keyring_note.show()

    def show_fingerprint(self, url: str, fp: str) -> None:
        self.cert_text.setText(
            f"First contact with {url}. Compare this SHA-256 fingerprint with the one the "
            "agent printed (flypack-agent cert create) or that its administrator gave you:")
        self.fingerprint.setText(fp)
        self.cert.show()
        self.login.hide()

    def show_login(self, note: str = "") -> None:
        self.cert.hide()
        self.login.show()
        self.message.setText(note)
        (self.user if not self.user.text() else self.password).setFocus()

    def set_busy(self, busy: bool, text: str = "") -> None:
        for w in (self.check, self.trust, self.login_button):
            w.setEnabled(not busy)
        if text:
            self.message.setText(text)

    def fail(self, text: str) -> None:
        self.set_busy(False)
        self.message.setText(f"✕ {text}")

    def _login(self) -> None:
        if self.login_button.isEnabled():
            self.login_requested.emit(self.url.text().strip(), self.user.text().strip(),
                                      self.password.text(), self.remember.isChecked())
