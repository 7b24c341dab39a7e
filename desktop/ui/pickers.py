"""A touch picker: one checkable button per choice, exactly one checked (no popup list to
hit with a glove, no free text where the choices are known)."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.ui.qt import QButtonGroup, QGridLayout, QPushButton, QWidget, Signal
from desktop.ui.theme import GAP


class ChoiceButtons(QWidget):
    changed = Signal(str)

    def __init__(self, choices: Sequence[str], name: str, columns: int = 3,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(GAP)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        for i, choice in enumerate(choices):
            b = QPushButton(choice)
            b.setCheckable(True)
            b.setAccessibleName(f"{name}: {choice}")
            b.clicked.connect(lambda _=False, c=choice: self.changed.emit(c))
            self.group.addButton(b)
            grid.addWidget(b, i // columns, i % columns)
            self.buttons[choice] = b

    def value(self) -> str | None:
        return next((c for c, b in self.buttons.items() if b.isChecked()), None)

    def set_value(self, choice: str) -> None:
        b = self.buttons.get(choice)
        if b is not None:
            b.setChecked(True)
