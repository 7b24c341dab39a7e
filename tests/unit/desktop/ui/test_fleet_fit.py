"""Issue 14, finding 5 (the desktop in a real window at 1366x768), the fleet half: the add
step has room and a way back, the login step says its keyring choice once and whole, a tile
shows its alarm text as wide as the tile is, and the "opened at the most severe problem" note
never moves the tabs and goes when that problem does. Offscreen here; the same screens in a
real X window: tests/journeys/test_real_windows.py."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.client import FleetEntry, FleetFile, SecretStore
from desktop.model.overview import FlypackSnapshot, Level, Tile
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.fleet import FleetWindow
from desktop.ui.layout_check import layout_problems
from desktop.ui.overview import TileButton, fit_lines
from desktop.ui.qt import QApplication, QPoint, Qt
from desktop.ui.window import MainWindow
from server_agent.contract import Device, DeviceRole, ProbeStatus

LEFT = Qt.MouseButton.LeftButton
SCREEN = (1366, 768)  # the offscreen platform's own screen is 800x800
ALARM = ("critical: enc-02 program (simulated): first failing hop enc-02 (enc-02 loses 5% of "
         "its tcp:18023 probes); caused upstream: no_signal")


def window(qtbot: QtBot, qapp: QApplication, tmp_path: Path,
           entries: list[FleetEntry] | None = None) -> FleetWindow:
    theme.apply(qapp, theme.DARK)
    w = FleetWindow(FleetFile(tmp_path / "fleet.json", entries or []), SecretStore(None))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    return w


def settle(qapp: QApplication, w: object) -> None:
    QApplication.processEvents()
    w.grab()  # type: ignore[attr-defined]


def test_the_add_step_has_room_and_a_way_back(qtbot: QtBot, qapp: QApplication,
                                              tmp_path: Path) -> None:
    w = window(qtbot, qapp, tmp_path)
    qtbot.mouseClick(w.overview.add, LEFT)  # type: ignore[no-untyped-call]
    av = w.add_view
    settle(qapp, w)
    assert layout_problems(w, SCREEN) == []
    assert av.url.width() >= 560, av.url.width()  # was 176 px: the URL did not fit
    assert av.back.isVisible()  # was only on the login step
    qtbot.mouseClick(av.back, LEFT)  # type: ignore[no-untyped-call]
    assert w.stack.currentWidget() is w.overview


def test_the_login_step_says_the_keyring_choice_once(qtbot: QtBot, qapp: QApplication,
                                                     tmp_path: Path) -> None:
    w = window(qtbot, qapp, tmp_path)
    w.add_view.set_keyring(False, "no secure keyring (e.g. GNOME Keyring, KWallet, macOS "
                           "Keychain) is available")
    w.show_add()
    w.check_url("http://127.0.0.1:1")  # plain http: straight to the login form
    av = w.add_view
    settle(qapp, w)
    assert av.login.isVisible()
    assert layout_problems(w, SCREEN) == []
    text = (av.remember.text() + " " + av.keyring_note.text()).lower()
    assert text.count("no secure keyring") == 1, text  # it said so twice, then was cut
    assert "session only" in av.remember.text() and av.keyring_note.isVisible()
    assert "forgotten when the app closes" in av.keyring_note.text()


def tile(headline: str) -> Tile:
    return Tile("http://x", "flypack-north", Level.critical, headline, streams_ok=1,
                streams_alarm=1, devices_up=39, devices_down=1, worst_rtt_ms=2.5,
                worst_device="enc-02", jobs_running=0, alarms_active=3, alarms_acked=1,
                updated=1000.0)


def test_a_tile_shows_its_alarm_as_wide_as_it_is(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    b = TileButton()
    qtbot.addWidget(b)
    b.resize(1340, 200)
    b.show()
    b.show_tile(tile(ALARM))
    settle(qapp, b)
    lines = b.text().splitlines()
    assert lines[1] == ALARM, lines  # whole: it was cut at 56 characters (~560 px)
    assert layout_problems(b, SCREEN) == []
    b.resize(660, 200)  # two tiles side by side: the headline wraps, then elides
    settle(qapp, b)
    fm = b.fontMetrics()
    lines = b.text().splitlines()
    assert " ".join(lines[1:3]).startswith(ALARM[:60]), lines
    assert layout_problems(b, SCREEN) == []  # every line fits the button
    assert ALARM in b.toolTip()  # the full text one tap away
    assert max(fm.horizontalAdvance(x) for x in lines) < 660


def test_fit_lines_wraps_the_headline_then_elides() -> None:
    def elide(t: str, w: int) -> str:
        return t[:w - 1] + "…"

    lines = ["name — PROBLEM", "alpha beta gamma delta epsilon", "a very long third line"]
    assert fit_lines(lines, 100, len, elide) == lines
    assert fit_lines(lines, 16, len, elide) == ["name — PROBLEM", "alpha beta gamma",
                                                "delta epsilon", "a very long thi…"]


def down_snapshot(up: bool) -> FlypackSnapshot:
    d = Device(id="enc-02", name="enc-02", role=DeviceRole.encoder, address="127.0.0.1",
               probes=[ProbeStatus(probe="tcp:1", up=up, rtt_ms=1.0 if up else None,
                                   jitter_ms=None, loss_ratio=0.0 if up else 1.0)])
    return FlypackSnapshot("north", "http://127.0.0.1:1", 1e12, devices=[d], streams=[],
                           alarms=[])


def test_the_opened_at_note_keeps_the_tabs_still_and_goes_with_the_problem(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    w = window(qtbot, qapp, tmp_path, [FleetEntry("http://127.0.0.1:1", "op", name="north")])
    m = w._member(w.fleet.entries[0])
    m.logged_in, m.snapshot = True, down_snapshot(up=False)
    d = m.dashboard = Dashboard(fleet=True)
    w.stack.addWidget(d)
    w.stack.setCurrentWidget(d)
    settle(qapp, w)
    y = d.tabs.tabBar().mapTo(w, QPoint(0, 0)).y()
    target = m.tile(1e12).target
    assert target.tab == "devices" and target.item == "enc-02"
    d.show_context(f"Most severe problem: {ALARM}", (target.tab, target.item))
    settle(qapp, w)
    assert d.tabs.tabBar().mapTo(w, QPoint(0, 0)).y() == y  # the banner pushed them 68 px
    assert layout_problems(w, SCREEN) == []  # elided, with the full text in its tooltip
    assert ALARM in d.context.toolTip()
    w.refresh_tiles()  # still down: the note stays
    assert d.context.full
    other = down_snapshot(up=False)
    other.devices.insert(0, other.devices[0].model_copy(update={"id": "dec-01",
                                                                "name": "dec-01"}))
    m.snapshot = other  # another device down comes first now: not the end of this problem
    assert m.tile(1e12).target.item == "dec-01"
    w.refresh_tiles()
    assert d.context.full
    m.snapshot = down_snapshot(up=True)
    w.refresh_tiles()  # the problem is gone: so is the note
    assert d.context.full == "" and d.context_target is None
    settle(qapp, w)
    assert d.tabs.tabBar().mapTo(w, QPoint(0, 0)).y() == y


def test_the_single_agent_login_has_room_for_a_url(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    w = MainWindow(None)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    settle(qapp, w)
    assert layout_problems(w, SCREEN) == []
    assert w.login.url.width() >= 400, w.login.url.width()  # was 260: a real URL scrolled
