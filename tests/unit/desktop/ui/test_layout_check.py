"""The layout checker, given bad widgets on purpose: it must name each of them (a checker only
ever shown good screens proves nothing), and stay quiet about a good screen, about content
that scrolls, and about a cut text whose full text is in its tooltip."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.ui import theme
from desktop.ui.layout_check import layout_problems
from desktop.ui.qt import (
    QAbstractTableModel,
    QApplication,
    QCheckBox,
    QLabel,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    QScrollArea,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)

LONG = "the first failing hop is enc-02: continuity errors since 15:02 on leg 1 and leg 2"


def window(qtbot: QtBot, w: int = 600, h: int = 400) -> QWidget:
    win = QWidget()
    qtbot.addWidget(win)
    win.resize(w, h)
    return win


def shown(win: QWidget) -> list[str]:
    win.show()
    QApplication.processEvents()  # the views' delayed geometry updates (scroll ranges)
    win.grab()  # lay out and paint once
    return layout_problems(win)


def test_a_good_screen_has_no_problems(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot)
    col = QVBoxLayout(win)
    col.addWidget(QLabel("Add a flypack"))
    wrapped = QLabel(LONG * 2)
    wrapped.setWordWrap(True)
    col.addWidget(wrapped)
    col.addWidget(QPushButton("Connect"))
    col.addWidget(QCheckBox("Remember me"))
    col.addStretch(1)
    assert shown(win) == []


def test_past_the_window_and_clipped_by_the_parent(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot, 400, 300)
    past = QPushButton("Log in", win)
    past.setGeometry(350, 10, 120, 48)  # 70 px past the right edge
    box = QWidget(win)
    box.setObjectName("card")
    box.setGeometry(0, 100, 200, 60)
    inner = QPushButton("Connect", box)
    inner.setGeometry(0, 30, 150, 48)  # 18 px below the card
    problems = shown(win)
    assert any(p.startswith("QPushButton 'Log in' extends past its window (70 px too wide")
               for p in problems), problems
    assert any(p.startswith("QPushButton 'Connect' is clipped by its parent QWidget #card (")
               and p.endswith("px too high)") for p in problems), problems


def test_overlapping_siblings(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot)
    field = QPushButton("Connect", win)
    field.setGeometry(10, 10, 200, 48)
    status = QLabel("Enter the agent URL", win)
    status.setGeometry(10, 40, 300, 30)  # paints over the button's bottom
    problems = shown(win)
    assert any("QPushButton 'Connect' and QLabel 'Enter the agent URL' overlap" in p
               for p in problems), problems


def test_cut_texts_unless_the_full_text_is_one_tap_away(qtbot: QtBot,
                                                        qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot, 700, 500)
    label = QLabel(LONG, win)
    label.setGeometry(0, 0, 200, 30)
    button = QPushButton(LONG, win)
    button.setGeometry(0, 60, 200, 48)
    check = QCheckBox("Remember for this session only (memory; no secure keyring: no secure "
                      "keyring (e.g. GNOME Keyring, KWallet) is available)", win)
    check.setGeometry(0, 120, 300, 48)
    wrapped = QLabel(LONG * 3, win)
    wrapped.setWordWrap(True)
    wrapped.setGeometry(0, 180, 200, 30)  # three lines and more in one line's height
    tipped = QLabel(LONG, win)
    tipped.setToolTip(f"stream s1: {LONG}")  # cut, but the full text is one tap away
    tipped.setGeometry(0, 240, 200, 30)
    problems = shown(win)
    cut = [p for p in problems if "text is cut" in p]
    assert len(cut) == 3, problems
    assert any(p.startswith("QLabel 'the first failing hop") for p in cut)
    assert any(p.startswith("QPushButton 'the first failing hop") for p in cut)
    assert any(p.startswith("QCheckBox 'Remember for this session") for p in cut)
    assert any("is cut at the bottom" in p for p in problems), problems
    assert len(problems) == 4, problems  # nothing about the label with the tooltip


class Model(QAbstractTableModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 2

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 2

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return ["ok", LONG][index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation is Qt.Orientation.Horizontal:
            return ["Bitrate", "Alarm"][section]
        return None


def test_tables_cut_headers_cells_and_horizontal_scrolling(qtbot: QtBot,
                                                           qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot, 400, 300)
    col = QVBoxLayout(win)
    view = QTableView()
    view.setObjectName("streams")
    model = Model(view)
    view.setModel(model)
    view.setColumnWidth(0, 30)  # "Bitrate" does not fit: it reads "Bitrat"
    view.setColumnWidth(1, 600)  # wider than the window: horizontal scrolling
    col.addWidget(view)
    problems = shown(win)
    assert any("section 'Bitrate' is cut" in p for p in problems), problems
    assert any("needs horizontal scrolling" in p for p in problems), problems
    view.setColumnWidth(0, 80)
    view.setColumnWidth(1, 100)
    problems = shown(win)
    assert any("cell (0, 1) 'the first failing hop" in p for p in problems), problems
    assert not any("horizontal" in p or "section" in p for p in problems), problems


def test_scrolled_content_is_not_clipping(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot, 400, 300)
    col = QVBoxLayout(win)
    area = QScrollArea()
    area.setWidgetResizable(True)
    inner = QWidget()
    rows = QVBoxLayout(inner)
    for i in range(30):  # far taller than the window: it scrolls
        rows.addWidget(QPushButton(f"device {i}"))
    area.setWidget(inner)
    col.addWidget(area)
    assert shown(win) == []


def test_a_window_larger_than_its_screen(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    win = window(qtbot)
    screen = win.screen().availableGeometry()
    win.setMinimumSize(screen.width() + 200, 100)  # a layout minimum that cannot fit
    problems = shown(win)
    assert any("larger than its screen" in p for p in problems), problems
