"""The touch checker itself, given bad widgets: each kind of problem is reported, by name.

(The screens' own test only ever shows it good screens; a checker that reports nothing would
pass that test too.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from desktop.ui.qt import (
    QApplication,
    QListWidget,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.theme import TOUCH
from desktop.ui.touch import kinetic, touch_problems


@pytest.fixture(autouse=True)
def no_theme(qapp: QApplication) -> Iterator[None]:
    """The theme's stylesheet (left on the app by earlier tests) makes every control 48 px:
    these widgets must keep the sizes they are given."""
    sheet = qapp.styleSheet()
    qapp.setStyleSheet("")
    yield
    qapp.setStyleSheet(sheet)


def _panel(qtbot: QtBot, *children: QWidget) -> QWidget:
    root = QWidget()
    lay = QVBoxLayout(root)
    for c in children:
        lay.addWidget(c)
    qtbot.addWidget(root)
    root.resize(600, 600)
    root.show()
    root.grab()
    return root


def test_a_good_panel_has_no_problems(qtbot: QtBot) -> None:
    ok = QPushButton("Run")
    ok.setMinimumSize(TOUCH, TOUCH)
    named = QPushButton("✕")
    named.setMinimumSize(TOUCH, TOUCH)
    named.setAccessibleName("Close")
    assert touch_problems(_panel(qtbot, ok, named, kinetic(QListWidget()))) == []


def test_small_controls_are_reported_with_their_size(qtbot: QtBot) -> None:
    small = QPushButton("Acknowledge")
    small.setFixedSize(200, 30)
    narrow = QPushButton("Go")
    narrow.setFixedSize(30, TOUCH)
    problems = touch_problems(_panel(qtbot, small, narrow))
    assert "QPushButton 'Acknowledge' is 30 px high (< 48)" in problems
    assert "QPushButton 'Go' is 30 px wide (< 48)" in problems


def test_icon_only_buttons_need_an_accessible_name(qtbot: QtBot) -> None:
    icon = QPushButton("⟳")
    icon.setMinimumSize(TOUCH, TOUCH)
    problems = touch_problems(_panel(qtbot, icon))
    assert problems == ["icon-only QPushButton '⟳' has no accessible name"]


def test_scroll_areas_without_kinetic_scrolling_are_reported(qtbot: QtBot) -> None:
    plain = QListWidget()
    plain.setObjectName("alarm-list")
    problems = touch_problems(_panel(qtbot, plain))
    assert problems == ["QListWidget 'alarm-list' has no kinetic scrolling (QScroller)"]


def test_small_tabs_are_reported(qtbot: QtBot) -> None:
    tabs = QTabWidget()
    tabs.setStyleSheet("QTabBar::tab { height: 20px; }")
    for name in ("Streams", "Devices"):
        tabs.addTab(QWidget(), name)
    problems = touch_problems(_panel(qtbot, tabs))
    assert any(p.startswith("tab 'Streams' is") for p in problems), problems
    assert any(p.startswith("tab 'Devices' is") for p in problems), problems


def test_hidden_controls_are_not_judged(qtbot: QtBot) -> None:
    hidden = QPushButton("x")
    hidden.setFixedSize(10, 10)
    root = _panel(qtbot, hidden)
    hidden.hide()
    assert touch_problems(root) == []
