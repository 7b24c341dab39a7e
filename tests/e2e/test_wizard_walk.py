"""The provisioning wizard walked offscreen in the real fleet window (qasync + Qt): target,
host key and checks against a real sshd on 127.0.0.1 (with a package mirror on loopback),
settings with validation, review, and run/done. The deploy driver is scripted here (a deploy
against this machine would rewrite its network): it emits the deploy's event stream from a
worker thread, is canceled, fails once, and finally reports a real TLS agent, which the
wizard pins, logs in to, adds to the fleet and opens. The deploy itself against a VM is
tests/provision/test_wizard_vm.py. Screenshots of every page: docs/screenshots/wizard-*.png
(the pages the real-window journey saves from Xvfb go to build/screenshots/ here).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from desktop.client import FleetFile, SecretStore
from desktop.provisioning.ansible_bin import unsupported_reason
from desktop.provisioning.deploy import DeployEvent, DeployResult
from desktop.provisioning.form import FormValues, NetworkRow
from desktop.provisioning.settings import FlypackSettings, Target
from desktop.ui import theme
from desktop.ui.fleet import FleetWindow
from desktop.ui.qt import QApplication, Qt, QWidget
from desktop.ui.touch import touch_problems
from desktop.ui.wizard import CHECKS, DONE, HOSTKEY, REVIEW, RUN, SETTINGS, TARGET
from tests.e2e.fleet_support import TlsAgent, tls_sim_agent, until
from tests.e2e.test_wizard_sshd import mirror, server  # noqa: F401  (fixtures)
from tests.support import ADMIN_PASSWORD, ROOT, free_port

pytestmark = pytest.mark.slow
SHOTS = ROOT / "docs" / "screenshots"
LEFT = Qt.MouseButton.LeftButton
ROLES = ["bootstrap", "base", "network", "docker", "stack", "tls", "agent", "firewall"]


class ScriptedDriver:
    """The deploy's event stream without touching this machine. ``gate`` holds the run in
    the middle (for the screenshot); ``outcome``: canceled / failed / successful."""

    def __init__(self, outcome: str, agent: TlsAgent | None, gate: threading.Event) -> None:
        self.outcome, self.agent, self.gate = outcome, agent, gate

    def run(self, on_event: Callable[[DeployEvent], None],
            cancel: threading.Event) -> DeployResult:
        on_event(DeployEvent("log", "127.0.0.1", None, None, "connecting to root@127.0.0.1"))
        on_event(DeployEvent("play", None, None, None, "play: flypack server"))
        changed = 0
        for i, role in enumerate(ROLES):
            on_event(DeployEvent("role", None, role, None, f"role {role}"))
            for task in ("Check", "Install", "Configure"):
                name = f"{task} {role}"
                on_event(DeployEvent("task", None, role, name, name))
                on_event(DeployEvent("changed", "flypack-07", role, name, f"changed: {name}"))
                changed += 1
            if i == 3:
                self.gate.wait(30)
                if self.outcome == "canceled":
                    deadline = time.monotonic() + 10
                    while not cancel.is_set() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    return DeployResult("canceled", changed, None, "the deploy was canceled; "
                                        "run it again to finish: what was done is kept",
                                        None, None, None, None)
                if self.outcome == "failed":
                    msg = ("task 'Install docker' of role docker failed: E: Unable to locate "
                           "package docker.io. Fix the cause and run the deploy again: what "
                           "already succeeded is kept and not repeated.")
                    on_event(DeployEvent("failed", "flypack-07", role, "Install docker",
                                         "failed: Install docker: E: Unable to locate"))
                    return DeployResult("failed", changed, "Install docker", msg, None, None,
                                        None, None)
        assert self.agent is not None
        return DeployResult("successful", changed, None,
                            f"deployed flypack-07: agent at {self.agent.url}; first admin "
                            "'admin' created", self.agent.url, self.agent.fingerprint,
                            "admin", ADMIN_PASSWORD)


# pages the real-window journey (tests/journeys/test_real_windows.py) saves to docs/ from a
# real Xvfb window: this offscreen walk keeps its own copies of them in build/ instead
JOURNEY_PAGES = {"target", "hostkey", "checks", "settings-errors", "settings", "review", "run",
                 "failed"}


async def shot(w: QWidget, name: str) -> None:
    await asyncio.sleep(0.2)  # never processEvents() inside a coroutine under qasync
    where = ROOT / "build" / "screenshots" if name in JOURNEY_PAGES else SHOTS
    where.mkdir(parents=True, exist_ok=True)
    assert w.grab().save(str(where / f"wizard-{name}.png")), name
    problems = touch_problems(w)
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[TlsAgent]:
    with tls_sim_agent(tmp_path / "agent", streams=0, flypack="flypack-07") as a:
        yield a


def test_wizard_walk(qtbot: QtBot, qapp: QApplication, server: tuple[int, Path, str],  # noqa: F811
                     mirror: str, agent: TlsAgent, tmp_path: Path) -> None:  # noqa: F811
    port, key, printed = server
    theme.apply(qapp, theme.DARK)
    w = FleetWindow(FleetFile.load(tmp_path / "cfg" / "fleet.json"), SecretStore.detect(),
                    poll_s=1.0)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    wiz = w.wizard
    gate = threading.Event()
    outcomes = ["canceled", "failed", "successful"]
    built: list[tuple[Target, FlypackSettings]] = []

    def make_driver(t: Target, s: FlypackSettings, bundle: Path | None,
                    workdir: Path) -> ScriptedDriver:
        built.append((t, s))
        return ScriptedDriver(outcomes.pop(0), agent, gate)

    wiz.services.make_driver = make_driver

    async def scenario() -> None:
        w.start()
        assert wiz.launch_button is not None
        qtbot.mouseClick(wiz.launch_button, LEFT)
        assert w.stack.currentWidget() is wiz and wiz.page == TARGET
        tp = wiz.target_page
        tp.host.setText("127.0.0.1")
        tp.port.setValue(free_port())  # nothing listens there
        tp.password.setText("not-the-password")
        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: "cannot reach SSH" in wiz.banner.text, 15, "unreachable")
        assert wiz.page == TARGET and "sshd runs on the target" in wiz.banner.text
        tp.port.setValue(port)
        qtbot.mouseClick(wiz.next, LEFT)  # a wrong password: found at the login, after the key
        await until(lambda: wiz.page == HOSTKEY, 15, "the host key page")
        qtbot.mouseClick(wiz.key_page.trust, LEFT)
        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.page == TARGET, 15, "back to the target page")
        assert "refused the password" in wiz.banner.text
        await shot(w, "wrong-password")
        qtbot.mouseClick(tp.use_key, LEFT)
        tp.key_file.setText(str(key))
        tp.bundle.clear()  # a bundle in the cache would be prefilled: this run uses the mirror
        tp.mirror.setText(mirror)
        await shot(w, "target")

        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.page == HOSTKEY, 15, "the host key page")
        assert printed in wiz.key_page.fingerprint.text()
        assert wiz.next.isEnabled() and "remembered" in wiz.key_page.state.text()  # trusted
        assert wiz.services.hostkeys.lookup("127.0.0.1", port) is not None
        wiz.services.hostkeys.forget("127.0.0.1", port)  # for the first-contact screenshot
        wiz.show_page(TARGET)
        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.page == HOSTKEY and not wiz.busy, 15, "the host key page")
        assert not wiz.next.isEnabled()  # not confirmed yet
        await shot(w, "hostkey")
        qtbot.mouseClick(wiz.key_page.trust, LEFT)
        assert wiz.next.isEnabled()

        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.check_page.checks, 30, "the preflight checks")
        assert wiz.page == CHECKS and wiz.check_page.passed, wiz.check_page.checks
        assert "answers" in next(c.detail for c in wiz.check_page.checks
                                 if c.key == "packages")
        await shot(w, "checks")

        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == SETTINGS
        sp = wiz.settings_page
        assert sp.mgmt_interface.count() >= 1  # the target's own NICs to pick from
        sp.fill(FormValues("flypack-07", "eth0", "198.51.100.10/24", "198.51.100.1",
                           "198.51.100.1", "", "admin", 8443,
                           [NetworkRow("eth1", "203.0.113.5/24", 0, True),
                            NetworkRow("eth1", "198.51.100.77/16", 20, False)]))
        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == SETTINGS  # the second network overlaps the management one
        assert "overlaps" in sp.editors[1].error.text() and not sp.editors[0].error.text()
        assert "1 setting needs a change" in wiz.banner.text  # one, said in the singular
        await shot(w, "settings-errors")
        sp.editors[1].address.setText("198.18.0.5/15")
        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == REVIEW, wiz.banner.text
        assert "flypack-07" in wiz.review_page.summary.text()
        await shot(w, "review")
        wiz.show_page(SETTINGS)
        await shot(w, "settings")
        wiz.show_page(REVIEW)

        # run 1: canceled from the Cancel button while a role runs
        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == RUN and wiz.next.text() == "■ Cancel deploy"
        await until(lambda: "docker" in wiz.run_page.role_items, 10, "role docker")
        assert wiz.run_page.role_items["base"].text().startswith("✓ base")
        assert not wiz.close_button.isEnabled() and not wiz.back.isEnabled()
        await shot(w, "run")
        qtbot.mouseClick(wiz.next, LEFT)  # cancel
        gate.set()
        await until(lambda: wiz.page == DONE, 15, "the canceled run to end")
        assert wiz.done_page.headline.text() == "■ Canceled"
        assert wiz.done_page.rerun.isVisible() and not wiz.done_page.open.isVisible()

        # run 2: a package that will not install -> what to do, then run again
        gate.clear()
        qtbot.mouseClick(wiz.done_page.rerun, LEFT)
        gate.set()
        await until(lambda: wiz.page == DONE, 15, "the failed run to end")
        assert "Unable to locate package" in wiz.done_page.details.text()
        assert "run the deploy again" in wiz.done_page.details.text()
        assert wiz.run_page.role_items["docker"].text().startswith("✕ docker")
        await shot(w, "failed")

        # run 3: success -> credentials kept, certificate pinned, added to the fleet, opened
        qtbot.mouseClick(wiz.done_page.rerun, LEFT)
        await until(lambda: wiz.page == DONE, 15, "the successful run to end")
        assert wiz.done_page.headline.text().startswith("✓ flypack-07")
        assert wiz.done_page.fingerprint.text() == agent.fingerprint
        await until(lambda: "Added to the fleet" in wiz.done_page.fleet_status.text(), 20,
                    "the flypack in the fleet: " + wiz.done_page.fleet_status.text())
        assert wiz.stored_password(agent.url, "admin") == ADMIN_PASSWORD
        entry = w.fleet.find(agent.url)
        assert entry is not None and entry.fingerprint == agent.fingerprint and entry.pem
        await shot(w, "done")
        qtbot.mouseClick(wiz.done_page.open, LEFT)
        assert w.current is not None and w.current.entry.url == entry.url
        assert w.stack.currentWidget() is w.current.dashboard
        assert len(built) == 3 and built[0][0].host_key_sha256 == printed

        # a changed host key later stops with a warning
        w.show_overview()
        wiz.services.hostkeys.remember("127.0.0.1", port, "SHA256:" + "A" * 43, "ssh-ed25519")
        qtbot.mouseClick(wiz.launch_button, LEFT)
        assert wiz.page == TARGET
        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.page == HOSTKEY, 15, "the host key page")
        assert "CHANGED" in wiz.banner.text and not wiz.next.isEnabled()
        assert wiz.key_page.forget.isVisible() and not wiz.key_page.trust.isVisible()
        await shot(w, "hostkey-changed")

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(scenario())
    finally:
        gate.set()
        loop.run_until_complete(w.shutdown())
        loop.close()
        asyncio.set_event_loop(None)


def test_windows_explains_wsl(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    w = FleetWindow(FleetFile.load(tmp_path / "fleet.json"), SecretStore(None))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    w.wizard.services.unsupported = unsupported_reason("win32")
    w.wizard.reset()
    w.stack.setCurrentWidget(w.wizard)
    assert not w.wizard.next.isEnabled() and "WSL" in w.wizard.banner.text
    assert w.grab().save(str(SHOTS / "wizard-windows.png"))
    assert os.path.getsize(SHOTS / "wizard-windows.png") > 0
