"""Touch fitness of every main screen, offscreen at 1366x768, with view state filled in by
hand (the e2e test runs the same check against a real agent): every control >= 48 px,
icon-only buttons named, kinetic scrolling on every scroll area, no clipped tab bar."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.client import FleetEntry, FleetFile, Playbook, SecretStore
from desktop.model.overview import FlypackSnapshot
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.fleet import FleetWindow
from desktop.ui.qt import QApplication, QWidget
from desktop.ui.touch import touch_problems
from server_agent.contract import Device, DeviceRole, Stream, StreamLegStatus


def check(w: QWidget, screen: str) -> None:
    w.grab()  # lay out and paint once
    problems = touch_problems(w)
    assert not problems, f"{screen}: " + "; ".join(problems)


def devices() -> list[Device]:
    return [Device(id=f"enc-{i:02d}", name=f"enc-{i:02d}", role=DeviceRole.encoder,
                   address=f"127.0.0.{i + 1}", vendor="Haivision") for i in range(30)]


def test_every_screen_is_touch_fit(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    for t in (theme.DARK, theme.SUNLIGHT):
        theme.apply(qapp, t)
        fleet = FleetFile(tmp_path / "fleet.json",
                          [FleetEntry("http://127.0.0.1:1", "op", name="north")])
        w = FleetWindow(fleet, SecretStore(None))
        qtbot.addWidget(w)
        w.resize(1366, 768)
        w.show()
        m = w._member(fleet.entries[0])
        m.logged_in = True
        m.snapshot = FlypackSnapshot("north", m.entry.url, 0.0, devices=devices(),
                                     streams=[], alarms=[])
        w.refresh_tiles()
        check(w, f"overview ({t.name})")
        w.show_add()
        check(w, "add flypack")
        w.check_url("http://127.0.0.1:1")  # plain http: straight to the login form
        check(w, "login")

        d = Dashboard(fleet=True)
        qtbot.addWidget(d)
        d.resize(1366, 740)
        d.show()
        d.board.set_devices(devices())
        d.devices_reshaped()
        d.streams.set_streams([Stream(id="s1", title="cam 1", legs=["udp://@:5000"],
                                      state="alarm", leg_status=[
                                          StreamLegStatus(url="udp://@:5000", up=False)])])
        for tab in ("streams", "devices", "alarms"):
            d.show_tab(tab)
            check(d, f"{tab} ({t.name})")
        assert d.open_device("enc-03")
        check(d, "device page")
        d.show_tab("jobs")
        d.jobs.playbooks = [Playbook("check", "Check", schema={"properties": {
            "group": {"enum": ["a", "b"]}, "fix": {"type": "boolean"},
            "count": {"type": "integer"}, "ports": {"type": "array",
                                                   "items": {"type": "integer"}},
            "hosts": {"type": "array", "items": {"enum": ["x", "y"]}}}})]
        d.jobs.catalog.addItem("Check")
        d.jobs.stack.setCurrentIndex(1)
        d.jobs._pick(0)
        check(d, "jobs")
    theme.apply(qapp, theme.DARK)
