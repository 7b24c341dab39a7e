"""Paint smoke test: pyqtgraph has crashed on some PySide6 releases (design §4)."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from desktop.client import LinkState, LinkStatus
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.qt import QApplication, QColor, QPoint
from server_agent.contract import Device, DeviceRole, WireSample


def samples(n: int) -> list[WireSample]:
    now = time.time()
    out = []
    for i in range(n):
        for dev in ("enc-01", "rtr-01"):
            out.append(WireSample(series="flypack_probe_rtt_seconds",
                                  labels={"device": dev, "probe": "udp:7"},
                                  t=now - n + i,  # two curves apart: neither hides the other
                                  v=0.001 + 0.0005 * (i % 5) + (0.003 if dev == "rtr-01" else 0)))
            out.append(WireSample(series="flypack_probe_up",
                                  labels={"device": dev, "probe": "udp:7"}, t=now - n + i,
                                  v=1.0))
    return out


def test_dashboard_paints_curves_and_marks_stale(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(1366, 700)
    dash.board.set_devices([Device(id=d, name=d, role=DeviceRole.router, address="127.0.0.1")
                            for d in ("enc-01", "rtr-01")])
    dash.devices_reshaped()
    batch = samples(50)
    dash.device_model.rows_changed(dash.board.apply(batch))
    dash.store.apply(batch)
    dash.set_link(LinkStatus(LinkState.up))
    dash.show()
    dash.show_tab("devices")  # the RTT plot lives there
    qapp.processEvents()
    dash.plot.refresh(force=True)
    assert dash.plot.point_count() == 100
    image = dash.grab().toImage()
    assert not image.isNull()
    # the first curve colour is on screen somewhere in the plot area (not just its legend)
    blue = QColor(theme.DARK.curves[0])
    origin = dash.plot.widget.mapTo(dash, QPoint(0, 0))
    size = dash.plot.widget.size()
    hits = sum(1 for x in range(origin.x(), origin.x() + size.width())
               for y in range(origin.y(), origin.y() + size.height())
               if image.pixelColor(x, y) == blue)
    assert hits > 5
    assert dash.device_model.data(dash.device_model.index(0, 3)) == "up"

    dash.set_link(LinkStatus(LinkState.down, "connection reset", retry_in_s=2.0, since=1.0))
    assert dash.device_model.data(dash.device_model.index(0, 3)) == "up (stale)"
    assert "DOWN" in dash.link_label.text() and "stale" in dash.link_label.text()
    assert dash.plot.caption.text().startswith("⚠ STALE since")
    # sunlight theme paints too
    theme.apply(qapp, theme.SUNLIGHT)
    dash.apply_theme(theme.SUNLIGHT)
    assert not dash.grab().toImage().isNull()
    theme.apply(qapp, theme.DARK)


def test_touch_sizes(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, theme.DARK)
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.show()
    for button in (dash.sunlight, dash.logout, dash.alarms.ack_button, dash.banner.close_button):
        assert button.sizeHint().height() >= theme.TOUCH, button.text()
    assert dash.banner.close_button.accessibleName() == "Dismiss message"
    assert dash.devices.verticalHeader().defaultSectionSize() >= theme.TOUCH
