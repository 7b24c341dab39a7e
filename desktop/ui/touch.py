"""Touch fitness helpers: kinetic scrolling everywhere, and a checker the tests (and a
developer) run over any screen.

    kinetic(view)                 # QScroller on the viewport: drag with a finger or a glove
    problems = touch_problems(w)  # ["QPushButton 'x' is 40 px high", ...] — empty is good
"""

from __future__ import annotations

from typing import TypeVar

from desktop.ui.qt import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QGraphicsView,
    QHeaderView,
    QLineEdit,
    QScroller,
    QTabWidget,
    QWidget,
)
from desktop.ui.theme import TOUCH

__all__ = ["has_kinetic", "kinetic", "touch_problems"]

_GESTURE = QScroller.ScrollerGestureType.LeftMouseButtonGesture


A = TypeVar("A", bound=QAbstractScrollArea)


def kinetic(area: A) -> A:
    QScroller.grabGesture(area.viewport(), _GESTURE)
    return area


def has_kinetic(area: QAbstractScrollArea) -> bool:
    # ungrabbed viewports report CustomGesture (256); a grab registers a recognizer above it
    vp = area.viewport()
    return vp is not None and QScroller.grabbedGesture(vp).value > 256


def _label(w: QWidget) -> str:
    text = w.text() if isinstance(w, QAbstractButton | QLineEdit) else ""
    return f"{type(w).__name__} {(w.accessibleName() or text or w.objectName())!r}"


def touch_problems(root: QWidget) -> list[str]:
    """Visible controls under 48 px, icon-only buttons without an accessible name, scroll
    areas without kinetic scrolling, tab bars with small tabs."""
    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisibleTo(root) and w is not root:
            continue
        if isinstance(w, QAbstractButton | QLineEdit | QComboBox | QAbstractSpinBox):
            if w.height() < TOUCH:
                out.append(f"{_label(w)} is {w.height()} px high (< {TOUCH})")
            if w.width() < TOUCH:
                out.append(f"{_label(w)} is {w.width()} px wide (< {TOUCH})")
        if isinstance(w, QAbstractButton):
            text = w.text().strip()
            iconish = not text or (len(text) <= 2 and not text.isalnum())
            if iconish and not w.accessibleName():
                out.append(f"icon-only {_label(w)} has no accessible name")
        if isinstance(w, QAbstractScrollArea) and not isinstance(w, QGraphicsView | QHeaderView):
            if not has_kinetic(w):
                out.append(f"{_label(w)} has no kinetic scrolling (QScroller)")
        if isinstance(w, QTabWidget):
            bar = w.tabBar()
            for i in range(bar.count()):
                if bar.tabRect(i).height() < TOUCH:
                    out.append(f"tab {bar.tabText(i)!r} is {bar.tabRect(i).height()} px high")
    return out
