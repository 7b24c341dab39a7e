"""The connection fields the login view and the add-flypack page share: agent URL, user name,
password (never echoed), and the status line under them."""

from __future__ import annotations

from desktop.ui.qt import QLabel, QLineEdit, Qt
from desktop.ui.theme import TOUCH

URL_HINT = "https://flypack-01:8443"


def url_edit(text: str = "") -> QLineEdit:
    e = QLineEdit(text)
    e.setPlaceholderText(URL_HINT)
    e.setAccessibleName("Agent URL")
    return e


def user_edit(text: str = "") -> QLineEdit:
    e = QLineEdit(text)
    e.setPlaceholderText("user name")
    e.setAccessibleName("User name")
    return e


def password_edit() -> QLineEdit:
    e = QLineEdit()
    e.setEchoMode(QLineEdit.EchoMode.Password)
    e.setPlaceholderText("password")
    e.setAccessibleName("Password")
    return e


def status_label(name: str) -> QLabel:
    """Where what happened (and what to do) is said; selectable, to copy an error."""
    lab = QLabel("")
    lab.setWordWrap(True)
    lab.setAccessibleName(name)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


def form_label(text: str) -> QLabel:
    """A form row's label, centred on its 48 px touch field (not stuck to the field's top)."""
    lab = QLabel(text)
    lab.setMinimumHeight(TOUCH)
    lab.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return lab
