"""A form generated from a playbook's variable schema, with touch inputs: pickers (enum),
toggles (boolean), steppers (integer/number), checkable lists (array of enum), and a text
field only where no choice exists. Validated (``desktop.model.schema_form``) before sending.

:class:`TargetPicker` offers the playbook's target groups (the job body's ``limit``) as
checkable chips, all on by default (= the playbook's own targets)."""

from __future__ import annotations

from typing import Any

from desktop.model.schema_form import FieldSpec, form_fields, validate
from desktop.model.targets import TargetGroup, job_limit
from desktop.ui.qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.theme import GAP, TOUCH
from desktop.ui.touch import kinetic


class SchemaForm(QWidget):
    def __init__(self, schema: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields = form_fields(schema)
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        lay = QFormLayout(self)
        lay.setSpacing(GAP)
        lay.setContentsMargins(0, 0, 0, 0)
        # the title level with its 48 px field, not at its top edge
        lay.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for f in self.fields:
            w = self._input(f)
            w.setAccessibleName(f.title)
            if f.help:
                w.setToolTip(f.help)
            self.inputs[f.name] = w
            err = QLabel("")
            err.setObjectName("counter")
            err.hide()  # shown with a reason only: an empty line would lower the title
            self.errors[f.name] = err
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            col.addWidget(w)
            col.addWidget(err)
            label = "" if f.kind == "toggle" else f.title + (" *" if f.required else "")
            lay.addRow(label, box)
        if not self.fields:
            lay.addRow(QLabel("This playbook takes no variables."))

    def _input(self, f: FieldSpec) -> QWidget:
        if f.kind == "choice":
            combo = QComboBox()
            if not f.required:
                combo.addItem("(default)", None)
            for c in f.choices:
                combo.addItem(str(c), c)
            if f.default is not None:
                combo.setCurrentIndex(max(0, combo.findData(f.default)))
            return combo
        if f.kind == "toggle":
            box = QCheckBox(f.title)
            box.setChecked(bool(f.default))
            return box
        if f.kind in ("stepper", "decimal"):
            spin: QSpinBox | QDoubleSpinBox
            spin = QSpinBox() if f.kind == "stepper" else QDoubleSpinBox()
            lo = -1e9 if f.minimum is None else f.minimum
            hi = 1e9 if f.maximum is None else f.maximum
            if isinstance(spin, QSpinBox):
                spin.setRange(int(max(lo, -2**31)), int(min(hi, 2**31 - 1)))
                spin.setSingleStep(int(f.step) or 1)
                spin.setValue(int(f.default if f.default is not None else max(lo, 0)))
            else:
                spin.setRange(lo, hi)
                spin.setSingleStep(f.step)
                spin.setValue(float(f.default if f.default is not None else max(lo, 0)))
            spin.setMinimumWidth(180)
            return spin
        if f.kind == "multi":
            lst = QListWidget()
            for c in f.choices:
                item = QListWidgetItem(str(c))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = isinstance(f.default, list) and c in f.default
                item.setCheckState(Qt.CheckState.Checked if checked else
                                   Qt.CheckState.Unchecked)
                item.setData(Qt.ItemDataRole.UserRole, c)
                lst.addItem(item)
            lst.setMaximumHeight(TOUCH * min(4, len(f.choices)) + 8)
            kinetic(lst)
            return lst
        if f.kind == "list":
            text = ", ".join(map(str, f.default)) if isinstance(f.default, list) else ""
            line = QLineEdit(text)
            line.setPlaceholderText("items separated by commas")
            return line
        return QLineEdit("" if f.default is None else str(f.default))

    def raw_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            w = self.inputs[f.name]
            if isinstance(w, QComboBox):
                out[f.name] = w.currentData()
            elif isinstance(w, QCheckBox):
                out[f.name] = w.isChecked()
            elif isinstance(w, QSpinBox | QDoubleSpinBox):
                out[f.name] = w.value()
            elif isinstance(w, QListWidget):
                out[f.name] = [w.item(i).data(Qt.ItemDataRole.UserRole) for i in range(w.count())
                               if w.item(i).checkState() == Qt.CheckState.Checked]
            elif isinstance(w, QLineEdit):
                out[f.name] = w.text()
        return out

    def values(self) -> dict[str, Any] | None:
        """The validated variables, or None (and the reasons shown beside the fields)."""
        values, errors = validate(self.fields, self.raw_values())
        for name, lab in self.errors.items():
            lab.setText(f"✕ {errors[name]}" if name in errors else "")
            lab.setProperty("bad", "true" if name in errors else "false")
            lab.setVisible(name in errors)
        return None if errors else values


class TargetPicker(QWidget):
    """The playbook's target groups as checkable chips (icon text, not colour alone: "✓")."""

    COLUMNS = 3

    def __init__(self, groups: list[TargetGroup], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.groups = groups
        self.chips: dict[str, QPushButton] = {}
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        title = QLabel("Target groups *")
        col.addWidget(title)
        grid = QGridLayout()
        grid.setSpacing(GAP)
        usable = [g for g in groups if not g.empty]  # no device there: nothing to run on
        for i, g in enumerate(usable):
            b = QPushButton()
            b.setObjectName("segment")
            b.setCheckable(True)
            b.setChecked(True)
            b.setAccessibleName(f"Target group {g.name}")
            b.setToolTip(f"{g.name}: size not known here (the agent's extra inventory)"
                         if g.hosts is None else f"{g.name}: {g.hosts} devices")
            b.toggled.connect(lambda _on=False, b=b, g=g: self._label(b, g))
            self._label(b, g)
            self.chips[g.name] = b
            grid.addWidget(b, i // self.COLUMNS, i % self.COLUMNS)
        col.addLayout(grid)
        empty = [g.name for g in groups if g.empty]
        self.empty_note = QLabel(f"No devices in: {', '.join(empty)}." if empty else "")
        self.empty_note.setObjectName("muted")
        self.empty_note.setWordWrap(True)
        self.empty_note.setVisible(bool(empty))
        col.addWidget(self.empty_note)
        self.error = QLabel("")
        self.error.setObjectName("counter")
        self.error.setWordWrap(True)
        col.addWidget(self.error)

    @staticmethod
    def _label(b: QPushButton, g: TargetGroup) -> None:
        b.setText(f"{'✓ ' if b.isChecked() else ''}{g.label()}")

    def chosen(self) -> list[str]:
        return [name for name, b in self.chips.items() if b.isChecked()]

    def limit(self) -> list[str] | None:
        """The job body's ``limit`` ([] = all the playbook's targets), or None (the reason
        shown under the chips)."""
        limit, why = job_limit(self.groups, self.chosen())
        self.error.setText(f"✕ {why}" if why else "")
        self.error.setProperty("bad", "true" if why else "false")
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)
        return None if why else limit
