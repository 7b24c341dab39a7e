"""Cleared alarms never look like active ones (issue 14, finding 5): their own icon, words and
colour, listed after the active ones, and they can be hidden."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from desktop.ui import theme
from desktop.ui.alarms import AlarmPanel
from desktop.ui.qt import QApplication, Qt
from server_agent.contract import Alarm, Severity


def alarm(i: int, active: bool, severity: Severity = Severity.critical) -> Alarm:
    now = time.time()
    return Alarm(id=i, key=f"loss/enc-0{i}/icmp", rule="loss", severity=severity,
                 device=f"enc-0{i}", message=f"enc-0{i} does not answer icmp", active=active,
                 raised_at=now - 300 + i, cleared_at=None if active else now - 120)


def test_cleared_alarms_have_their_own_icon_words_and_place(qtbot: QtBot,
                                                            qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    panel = AlarmPanel()
    qtbot.addWidget(panel)
    panel.resize(1366, 600)
    panel.show()
    panel.set_alarms([alarm(1, False), alarm(2, True), alarm(3, False, Severity.minor),
                      alarm(4, True, Severity.minor)])
    m = panel.model
    rows = [(a.id, a.active) for a in m.alarms]
    assert rows == [(2, True), (4, True), (1, False), (3, False)]  # active first

    def cell(row: int, col: int, role: Qt.ItemDataRole) -> object:
        return m.data(m.index(row, col), role)

    display, deco, fg = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole,
                         Qt.ItemDataRole.ForegroundRole)
    active_icon, cleared_icon = cell(0, 0, deco), cell(2, 0, deco)
    assert active_icon.cacheKey() != cleared_icon.cacheKey()  # type: ignore[attr-defined]
    assert cell(0, 0, display) == "critical"
    assert cell(2, 0, display) == "cleared (critical)"  # words, not the icon alone
    assert cell(2, 3, display) == "cleared 2 min ago"
    assert cell(0, 0, fg) is None and cell(2, 0, fg) is not None  # greyed too
    assert panel.title.text() == "Alarms — 2 active · 2 cleared"

    panel.cleared_button.click()
    assert [a.id for a in m.alarms] == [2, 4]
    assert panel.title.text() == "Alarms — 2 active · 2 cleared hidden"
    assert panel.cleared_button.text() == "Show cleared"
    panel.set_alarms([alarm(1, False)])
    assert panel.note.text().startswith("No active alarms")
    panel.cleared_button.click()
    assert [a.id for a in m.alarms] == [1]
