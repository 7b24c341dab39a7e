"""The login view: agent URL, user, password. Non-blocking: it only emits ``submitted``.

The password is never stored by this view (design §6: secrets only in keyring; storing one is
a later issue). The caller runs the login coroutine and calls :meth:`set_busy`/:meth:`fail`.
"""

from __future__ import annotations

from desktop.ui import fields
from desktop.ui.qt import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP


class LoginView(QWidget):
    submitted = Signal(str, str, str)  # url, user, password

    def __init__(self, url: str = "", user: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("login")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(GAP * 4, GAP * 4, GAP * 4, GAP * 4)
        outer.addStretch(1)

        card = QWidget()
        card.setMaximumWidth(520)
        col = QVBoxLayout(card)
        col.setSpacing(GAP * 2)
        title = QLabel("flypack — connect to an agent")
        title.setObjectName("title")
        col.addWidget(title)
        note = QLabel("Monitoring for one flypack server. Your password is not stored.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        col.addWidget(note)

        form = QFormLayout()
        form.setSpacing(GAP)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.url = fields.url_edit(url)
        self.user = fields.user_edit(user)
        self.password = fields.password_edit()
        form.addRow(fields.form_label("Agent"), self.url)
        form.addRow(fields.form_label("User"), self.user)
        form.addRow(fields.form_label("Password"), self.password)
        col.addLayout(form)

        self.button = QPushButton("Log in")
        self.button.setObjectName("primary")
        self.button.setDefault(True)
        self.button.clicked.connect(self._submit)
        for field in (self.url, self.user, self.password):
            field.returnPressed.connect(self._submit)
        col.addWidget(self.button)

        self.message = fields.status_label("Login status")
        col.addWidget(self.message)

        centre = QHBoxLayout()  # up to the card's maximum, centred; narrower on a small screen
        centre.addStretch(1)
        centre.addWidget(card, 10)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(2)

    def focus_first_empty(self) -> None:
        for field in (self.url, self.user, self.password):
            if not field.text():
                field.setFocus()
                return
        self.button.setFocus()

    def _submit(self) -> None:
        if not self.button.isEnabled():
            return
        self.submitted.emit(self.url.text().strip(), self.user.text().strip(),
                            self.password.text())

    def set_busy(self, busy: bool, text: str = "Connecting…") -> None:
        self.button.setEnabled(not busy)
        for field in (self.url, self.user, self.password):
            field.setEnabled(not busy)
        if busy:
            self.message.setText(text)

    def fail(self, text: str) -> None:
        self.set_busy(False)
        self.message.setText(f"✕ {text}")
        self.password.selectAll()
        self.password.setFocus()

    def clear_password(self) -> None:
        self.password.clear()
