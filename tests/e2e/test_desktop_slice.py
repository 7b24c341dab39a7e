"""The desktop slice end to end: the real app (qasync + Qt, offscreen) against a real agent
subprocess probing TCP and UDP services that this test serves on 127.0.0.1.

    login via the UI -> devices with live RTT -> RTT plot with points -> alarm for the dead
    device -> acknowledge it as operator -> agent stops: data marked stale

Screenshots land in docs/screenshots/ (desktop-slice*.png, and the screenshot tool's PNGs).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.client import AgentClient, LinkState
from desktop.ui import theme
from desktop.ui.qt import QApplication, Qt
from desktop.ui.window import MainWindow
from tests.e2e.fleet_support import SHOTS, run_loop, until
from tests.support import PASSWORDS, ROOT, AgentProc, agent_process, free_port, stop_process

pytestmark = pytest.mark.slow


class Services:
    """A UDP echo and a TCP listener on 127.0.0.1, each in a bounded thread."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        for s in (self.udp, self.tcp):
            s.settimeout(0.2)
        self.threads = [threading.Thread(target=self._echo, daemon=True),
                        threading.Thread(target=self._accept, daemon=True)]
        for t in self.threads:
            t.start()

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    @property
    def tcp_port(self) -> int:
        return int(self.tcp.getsockname()[1])

    def _echo(self) -> None:
        while not self.stop.is_set():
            try:
                data, addr = self.udp.recvfrom(2048)
                self.udp.sendto(data, addr)
            except OSError:
                continue

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(2)
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProc]:
    svc = Services()
    dead = free_port()  # nothing listens here: sw-dead is down and raises an alarm
    devices = [("enc-01", "encoder", [f"udp:{svc.udp_port}"]),
               ("rtr-01", "router", [f"tcp:{svc.tcp_port}"]),
               ("dec-01", "decoder", [f"tcp:{svc.tcp_port}", f"udp:{svc.udp_port}"]),
               ("sw-dead", "switch", [f"tcp:{dead}"])]
    extra = "[probes]\ninterval_s = 0.5\ntimeout_s = 0.3\n"
    for name, role, probes in devices:
        extra += (f'[[devices]]\nname = "{name}"\naddress = "127.0.0.1"\nrole = "{role}"\n'
                  f"probes = {probes!r}\n".replace("'", '"'))
    try:
        with agent_process(tmp_path, extra) as proc:
            yield proc
    finally:
        svc.close()


def test_login_live_rtt_plot_alarm_ack_stale(qtbot: QtBot, qapp: QApplication,
                                             agent: AgentProc) -> None:
    theme.apply(qapp, theme.DARK)
    w = MainWindow(AgentClient(agent.url), user="operator")
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    d = w.dashboard

    def agent_log() -> str:
        return "agent log tail:\n" + agent.log.read_text(errors="replace")[-2000:]

    async def scenario() -> None:
        assert w.login.url.text() == agent.url and w.login.user.text() == "operator"
        qtbot.keyClicks(w.login.password, PASSWORDS["operator"])  # type: ignore[no-untyped-call]
        qtbot.mouseClick(w.login.button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
        await until(lambda: w.stack.currentWidget() is d, 15, "the dashboard",
                    lambda: f"login view says {w.login.message.text()!r}")
        await until(lambda: w.session is not None
                    and w.session.stream.status.state is LinkState.up, 15, "the live link")
        await until(lambda: len(d.board.rows) == 4, 15, "the device list")
        await until(
            lambda: sum(r.rtt_ms is not None for r in d.board.rows) >= 3
            and d.plot.point_count() >= 6, 40,
            "live RTT for 3 devices and plot points",
            lambda: (f"rows with RTT: {sum(r.rtt_ms is not None for r in d.board.rows)}, "
                     f"plot points: {d.plot.point_count()}, selected: "
                     f"{d.devices.selected_ids()}; " + agent_log()))
        names = {r.device.name: r for r in d.board.rows}
        assert names["enc-01"].state.value == "up"
        rtt = d.device_model.data(d.device_model.index(0, 4))
        # a number is shown (no bound: the echo thread shares this busy process, and timed
        # assertions belong in `make bench`)
        assert rtt != "—" and float(rtt) >= 0
        assert d.devices.selected_ids() == ["enc-01", "rtr-01", "dec-01"]
        # sw-dead never answers: down, and (once the alarm engine has seen it) an alarm
        await until(lambda: names["sw-dead"].state.value == "down", 15, "sw-dead down")
        await until(lambda: any(a.device == "sw-dead" for a in d.alarms.model.alarms), 20,
                    "an alarm for sw-dead", lambda: d.alarms.note.text())
        d.show_tab("devices")  # the dashboard has tabs now; this picture is the devices tab
        await asyncio.sleep(2.0)  # a few more points for the picture
        w.grab().save(str(SHOTS / "desktop-slice.png"))

        row = next(i for i, a in enumerate(d.alarms.model.alarms) if a.device == "sw-dead")
        d.alarms.view.selectRow(row)
        assert d.alarms.ack_button.isEnabled()
        qtbot.mouseClick(d.alarms.ack_button,  # type: ignore[no-untyped-call]
                         Qt.MouseButton.LeftButton)
        await until(lambda: any(a.device == "sw-dead" and a.acked_by == "operator"
                                for a in d.alarms.model.alarms), 10, "the acknowledgement",
                    lambda: d.banner.text)

        stop_process(agent.proc)  # the link drops: everything shown is marked stale
        await until(lambda: d.board.stale, 10, "stale marking")
        assert "(stale)" in d.device_model.data(d.device_model.index(0, 3))
        assert "DOWN" in d.link_label.text()
        await asyncio.sleep(0.3)
        w.grab().save(str(SHOTS / "desktop-slice-stale.png"))

    run_loop(qapp, w, scenario)


def test_screenshot_tool(agent: AgentProc, tmp_path: Path) -> None:
    out = SHOTS
    env = dict(os.environ, FLYPACK_TEST_PW=PASSWORDS["viewer"], QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(
        [sys.executable, "-m", "desktop.ui.screenshots", "--url", agent.url, "--user", "viewer",
         "--password-env", "FLYPACK_TEST_PW", "--out", str(out), "--timeout", "40"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr + agent.log.read_text(errors="replace")[-2000:]
    printed = r.stdout.split()
    for name in ("login.png", "dashboard.png", "dashboard-sunlight.png"):
        assert str(out / name) in printed
        assert (out / name).stat().st_size > 10_000

    bad = subprocess.run(
        [sys.executable, "-m", "desktop.ui.screenshots", "--url", agent.url, "--user", "viewer",
         "--password-env", "FLYPACK_TEST_PW", "--out", str(tmp_path)],
        cwd=ROOT, env={**env, "FLYPACK_TEST_PW": "wrong"}, capture_output=True, text=True,
        timeout=60)
    assert bad.returncode == 2 and "login failed" in bad.stderr, bad.stderr
