"""The desktop in a real window: one walk through every screen and wizard page, run in its own
process on a real X display (Xvfb, started by tests/journeys/test_real_windows.py), so that
the Qt platform is xcb whatever the pytest process already chose.

    python -m tests.journeys.real_windows_walk --url URL --password PW --out DIR \\
        --suffix "" --report report.json

On every screen: :func:`desktop.ui.layout_check.layout_problems` on the top-level window and
a screenshot (``DIR/<name><suffix>.png``). The report maps each screen to its problems; the
exit code is 0 when the walk reached every screen (problems or not), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import qasync

from desktop.client import AgentClient, FleetFile, SecretStore
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.fleet import FleetWindow
from desktop.ui.layout_check import layout_problems
from desktop.ui.overview import TileButton
from desktop.ui.qt import QApplication, QPoint, QWidget
from desktop.ui.window import MainWindow

SETTLE_S = 0.4
FAULTED = "enc-02"  # the simulated device the walk takes down (and brings back)


class Walk:
    def __init__(self, out: Path, suffix: str) -> None:
        self.out, self.suffix = out, suffix
        self.report: dict[str, list[str]] = {}
        self.facts: list[str] = []  # what the walk saw that is wrong beside the layout
        self.notes: dict[str, str] = {}
        self.size: tuple[int, int] = (0, 0)

    async def screen(self, w: QWidget, name: str) -> None:
        await asyncio.sleep(SETTLE_S)  # never processEvents() inside a coroutine (qasync)
        self.report[name] = layout_problems(w)
        path = self.out / f"{name}{self.suffix}.png"
        if not w.grab().save(str(path)):
            raise RuntimeError(f"could not write {path}")


async def until(cond: Callable[[], object], limit_s: float, what: str,
                explain: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {limit_s:.0f} s waiting for {what}. "
                               f"{explain()}")
        await asyncio.sleep(0.1)


def fit(w: QWidget) -> None:
    """The whole screen, as a maximized window (no window manager on Xvfb to do it)."""
    screen = w.screen()
    geo = screen.availableGeometry()
    w.setGeometry(geo)
    w.show()


async def walk_login(walk: Walk, url: str) -> None:
    """The single-agent window's login view (``flypack-desktop --url``)."""
    w = MainWindow(AgentClient(url), user="admin")
    fit(w)
    try:
        await walk.screen(w, "login")
    finally:
        await w.shutdown()
        w.close()


class Api:
    """The agent's API as its admin (the simulator's fault switches)."""

    def __init__(self, url: str, password: str) -> None:
        self.c = httpx.Client(base_url=url + "/api/v1", timeout=15)
        r = self.c.post("/auth/login", json={"username": "admin", "password": password})
        r.raise_for_status()
        self.c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def fault(self, device: str, on: bool) -> None:
        r = (self.c.put(f"/sim/faults/{device}", json={"down": True}) if on
             else self.c.delete(f"/sim/faults/{device}"))
        r.raise_for_status()


def tabs_y(w: QWidget, d: Dashboard) -> int:
    return d.tabs.tabBar().mapTo(w, QPoint(0, 0)).y()


async def walk_fleet(walk: Walk, w: FleetWindow, url: str, password: str) -> None:
    api = Api(url, password)
    w.start()
    await walk.screen(w, "fleet-empty")
    w.overview.add.click()
    av = w.add_view
    await walk.screen(w, "add-flypack")
    av.url.setText(url)
    av.check.click()
    await until(av.login.isVisible, 10, "the login step", av.message.text)
    await walk.screen(w, "add-flypack-login")
    av.user.setText("admin")
    av.password.setText(password)
    av.login_button.click()
    await until(lambda: w.stack.currentWidget() is w.overview, 30, "the overview",
                av.message.text)
    m = w.members[next(iter(w.members))]
    await until(lambda: m.snapshot is not None and m.snapshot.devices, 30, "a first snapshot",
                lambda: m.error)

    def tile() -> TileButton:  # also while the overview is not the current screen
        return next(b for b in w.overview.tiles if b.tile and b.tile.url == m.entry.url)

    # a device down: the tile says so, one tap opens the dashboard at it
    api.fault(FAULTED, True)
    await until(lambda: FAULTED in tile().text() and m.snapshot is not None and any(
        a.device == FAULTED and a.active for a in m.snapshot.alarms or []), 40,
        f"the tile to show {FAULTED} down with its alarm", tile().text)
    w.refresh_tiles()
    await walk.screen(w, "overview")
    t = tile()
    shown = " ".join(t.text().splitlines())
    if t.tile is not None and len(t.tile.headline) < 150 and t.tile.headline not in shown:
        walk.facts.append(f"the tile cuts its headline {t.tile.headline!r} at "
                          f"{t.width()} px: {t.text()!r}")
    w.overview.sunlight.click()
    await walk.screen(w, "overview-sunlight")
    w.overview.sunlight.click()

    tile().click()
    d = m.dashboard
    assert d is not None and m.session is not None
    before = tabs_y(w, d)
    await until(lambda: d.context.full, 20, "the 'opened at the most severe problem' note")
    await asyncio.sleep(SETTLE_S)
    if tabs_y(w, d) != before:
        walk.facts.append(f"the tabs moved {tabs_y(w, d) - before} px when the 'opened at' "
                          "note appeared")
    await walk.screen(w, "dashboard-opened")
    await until(lambda: d.board.rows and d.streams.model.streams, 30, "devices and streams")

    d.show_tab("streams")
    streams = d.streams.model.streams
    with_path = next((s for s in streams if s.path), streams[0])
    d.streams.select(with_path.id)
    await until(lambda: d.streams.plot.point_count() >= 5, 30, "stream plot points")
    await walk.screen(w, "streams-path")
    ok = next((s for s in streams if s.state == "ok"), streams[0])
    d.streams.select(ok.id)
    await asyncio.sleep(1.0)
    await walk.screen(w, "streams")

    d.show_tab("devices")
    await until(lambda: d.plot.point_count() >= 3, 30, "RTT plot points")
    await walk.screen(w, "devices")
    assert d.open_device(FAULTED)
    await walk.screen(w, "device")
    d.show_tab("devices")

    d.show_tab("jobs")
    await until(lambda: d.jobs.api is not None and d.jobs.api.available is not None, 15,
                "the jobs catalog")
    if not d.jobs.unavailable and d.jobs.playbooks:
        names = [p.name for p in d.jobs.playbooks]
        d.jobs.catalog.setCurrentRow(names.index("connectivity-check")
                                     if "connectivity-check" in names else 0)
    await walk.screen(w, "jobs")

    d.sunlight.click()
    d.show_tab("devices")
    await walk.screen(w, "dashboard-sunlight")
    d.sunlight.click()

    # the problem ends: the note goes with it, and the tabs stay where they are
    d.back.click()
    tile().click()  # a fresh note about the problem as it is now
    await until(lambda: d.context.full, 20, "the note again")
    d.show_tab("streams")
    await asyncio.sleep(SETTLE_S)
    before, banner = tabs_y(w, d), d.banner.text
    api.fault(FAULTED, False)
    try:
        await until(lambda: not d.context.full, 40, "the note to go with the problem")
    except TimeoutError:
        walk.facts.append(f"the note {d.context.full!r} stayed after the problem cleared")
    await asyncio.sleep(SETTLE_S)
    if tabs_y(w, d) != before:
        walk.facts.append(f"the tabs moved {tabs_y(w, d) - before} px when the note went "
                          f"(banner before: {banner!r}, after: {d.banner.text!r})")

    # down again, acknowledged: the tile says what is active and what is acknowledged
    since = time.time() - 1.0
    api.fault(FAULTED, True)
    d.show_tab("alarms")

    def fresh() -> list[int]:  # raised by this fault (the first one's may still be clearing)
        return [i for i, a in enumerate(d.alarms.model.alarms) if a.device == FAULTED
                and a.active and a.acked_at is None and a.raised_at >= since]

    await until(fresh, 40, f"a new alarm for {FAULTED}")
    acked = d.alarms.model.alarms[fresh()[0]].id
    d.alarms.view.selectRow(fresh()[0])
    d.alarms.ack_button.click()
    await until(lambda: any(a.id == acked and a.acked_at is not None
                            for a in d.alarms.model.alarms), 20, "the acknowledgement",
                lambda: d.banner.text)
    await walk.screen(w, "alarms")
    await until(lambda: "acknowledged)" in tile().text(), 15, "the tile to count the ack",
                tile().text)
    walk.notes["tile acknowledged"] = tile().text()
    if "all OK" in tile().text():
        walk.facts.append(f"the tile says 'all OK' beside an active alarm: {tile().text()!r}")
    api.fault(FAULTED, False)
    d.back.click()



async def walk_wizard(walk: Walk, w: FleetWindow, tmp: Path) -> None:
    """Every page of the provisioning wizard, against a real sshd on loopback, as
    tests/e2e/test_wizard_walk.py walks it (the deploy is scripted there and here: a real one
    would rewrite this machine's network)."""
    from desktop.provisioning.form import FormValues, NetworkRow
    from desktop.ui.wizard import CHECKS, DONE, HOSTKEY, REVIEW, RUN, SETTINGS, TARGET
    from tests.e2e.test_wizard_walk import ScriptedDriver
    from tests.jobs_support import sshd
    from tests.support import loopback_mirror

    wiz = w.wizard
    gate = threading.Event()
    wiz.services.make_driver = lambda *_a: ScriptedDriver("failed", None, gate)
    with sshd(tmp, password_auth=True) as (port, key_text), loopback_mirror() as mirror_url:
        key = tmp / "client_key"
        key.write_text(key_text)
        key.chmod(0o600)
        assert wiz.launch_button is not None
        wiz.launch_button.click()
        assert wiz.page == TARGET
        tp = wiz.target_page
        tp.host.setText("127.0.0.1")
        tp.port.setValue(port)
        tp.use_key.click()
        tp.key_file.setText(str(key))
        tp.bundle.clear()
        tp.mirror.setText(mirror_url)
        await walk.screen(w, "wizard-target")
        wiz.next.click()
        await until(lambda: wiz.page == HOSTKEY and not wiz.busy, 20, "the host key page",
                    lambda: wiz.banner.text)
        await walk.screen(w, "wizard-hostkey")
        wiz.key_page.trust.click()
        wiz.next.click()
        await until(lambda: wiz.page == CHECKS and wiz.check_page.checks, 60, "the checks",
                    lambda: wiz.banner.text)
        await walk.screen(w, "wizard-checks")
        if wiz.next.isEnabled():
            wiz.next.click()
        else:  # a check this machine fails (it is not a bare Debian): the page still counts
            wiz.show_page(SETTINGS)
        assert wiz.page == SETTINGS
        sp = wiz.settings_page
        sp.fill(FormValues("flypack-07", "eth0", "198.51.100.10/24", "198.51.100.1",
                           "198.51.100.1", "", "admin", 8443,
                           [NetworkRow("eth1", "203.0.113.5/24", 0, True),
                            NetworkRow("eth1", "198.51.100.77/16", 20, False)]))
        wiz.next.click()
        await until(lambda: "1 setting needs a change" in wiz.banner.text, 10,
                    "the settings errors")
        await walk.screen(w, "wizard-settings-errors")
        sp.editors[1].address.setText("198.18.0.5/15")
        wiz.next.click()
        await until(lambda: wiz.page == REVIEW, 10, "the review", lambda: wiz.banner.text)
        await walk.screen(w, "wizard-review")
        wiz.show_page(SETTINGS)
        await walk.screen(w, "wizard-settings")
        wiz.show_page(REVIEW)
        wiz.next.click()
        await until(lambda: wiz.page == RUN and "docker" in wiz.run_page.role_items, 15,
                    "the run")
        await walk.screen(w, "wizard-run")
        gate.set()
        await until(lambda: wiz.page == DONE, 15, "the failed run to end")
        await walk.screen(w, "wizard-failed")
        wiz.close_button.click()


async def main_async(args: argparse.Namespace, app: QApplication) -> dict[str, Any]:
    walk = Walk(args.out, args.suffix)
    result: dict[str, Any] = {"screens": walk.report, "facts": walk.facts,
                              "notes": walk.notes, "error": None}
    tmp = Path(tempfile.mkdtemp(prefix="flypack-real-windows-"))
    theme.apply(app, theme.DARK)
    w = FleetWindow(FleetFile.load(tmp / "cfg" / "fleet.json"), SecretStore.detect(),
                    poll_s=1.0)
    fit(w)
    screen = w.screen().geometry()
    result["screen"] = [screen.width(), screen.height()]
    try:
        await walk_login(walk, args.url)
        await walk_fleet(walk, w, args.url, args.password)
        await walk_wizard(walk, w, tmp)
    except Exception:
        result["error"] = traceback.format_exc()
    finally:
        with contextlib.suppress(Exception):  # never leave the shared demo's device down
            Api(args.url, args.password).fault(FAULTED, False)
        await w.shutdown()
        w.close()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--suffix", default="")
    p.add_argument("--report", type=Path, required=True)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["flypack-real-windows"])
    assert isinstance(app, QApplication)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        result = loop.run_until_complete(main_async(args, app))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    result["platform"] = app.platformName()
    args.report.write_text(json.dumps(result, indent=1))
    return 0 if result["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
