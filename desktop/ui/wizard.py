"""The provisioning wizard: a bare Debian 12 machine becomes a flypack server in one flow.

    target ─► host key (confirm, remember) ─► checks ─► settings ─► review ─► run ─► done

Pages are widgets (wizard_pages, wizard_settings, wizard_run); this controller runs the
blocking work (paramiko, ansible-runner) on worker threads through the qasync loop and
marshals deploy events back with ``call_soon_threadsafe``. No modal dialogs. Services are
injected (:class:`WizardServices`), so tests can swap the deploy driver at the edge.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from desktop.provisioning import preflight
from desktop.provisioning.errors import HostKeyChanged, LoginFailed, ProvisionError
from desktop.provisioning.hostkeys import HostKey
from desktop.provisioning.preflight import Check, Facts
from desktop.provisioning.settings import FlypackSettings, Target, validate_target
from desktop.provisioning.wizard_services import WizardServices, password_key
from desktop.ui.errors import Banner, describe, run_op
from desktop.ui.qt import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.qt import Signal as QtSignal
from desktop.ui.theme import GAP
from desktop.ui.wizard_pages import HostKeyPage, Page, PreflightPage, TargetPage
from desktop.ui.wizard_run import DonePage, ReviewPage, RunPage, review_html
from desktop.ui.wizard_settings import SettingsPage

if TYPE_CHECKING:  # paramiko and ansible-runner load only when the wizard is used
    from desktop.provisioning.deploy import DeployEvent, DeployResult

__all__ = ["ProvisionWizard", "WizardServices", "password_key"]

log = logging.getLogger("flypack.desktop.wizard")
T = TypeVar("T")
TARGET, HOSTKEY, CHECKS, SETTINGS, REVIEW, RUN, DONE = range(7)


class ProvisionWizard(QWidget):
    close_requested = QtSignal()
    provisioned = QtSignal(object)  # DeployResult of a successful deploy
    open_requested = QtSignal(str)  # agent URL

    def __init__(self, services: WizardServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        root = QVBoxLayout(self)
        root.setContentsMargins(GAP * 2, GAP, GAP * 2, GAP)
        root.setSpacing(GAP)
        head = QHBoxLayout()
        self.heading = QLabel("Provision a new flypack")
        self.heading.setObjectName("title")
        self.steps = QLabel("")
        self.steps.setObjectName("muted")
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(self.heading)
        head.addWidget(self.steps, 1)
        root.addLayout(head)
        self.banner = Banner()
        root.addWidget(self.banner)
        self.target_page, self.key_page = TargetPage(), HostKeyPage()
        self.check_page, self.settings_page = PreflightPage(), SettingsPage()
        self.review_page, self.run_page, self.done_page = ReviewPage(), RunPage(), DonePage()
        self.pages: list[Page] = [self.target_page, self.key_page, self.check_page,
                                  self.settings_page, self.review_page, self.run_page,
                                  self.done_page]
        self.stack = QStackedWidget()
        for p in self.pages:
            self.stack.addWidget(p)
        root.addWidget(self.stack, 1)
        nav = QHBoxLayout()
        self.close_button = QPushButton("✕ Close")
        self.close_button.setAccessibleName("Close the wizard")
        self.back = QPushButton("◀ Back")
        self.next = QPushButton("Next ▶")
        self.next.setObjectName("primary")
        nav.addWidget(self.close_button)
        nav.addStretch(1)
        nav.addWidget(self.back)
        nav.addWidget(self.next)
        root.addLayout(nav)
        self.close_button.clicked.connect(self._close)
        self.back.clicked.connect(self.go_back)
        self.next.clicked.connect(self.go_next)
        self.key_page.trusted.connect(self._trust_key)
        self.key_page.rejected.connect(self._reject_key)
        self.key_page.forget_requested.connect(self._forget_key)
        self.check_page.rerun_requested.connect(self.run_checks)
        self.done_page.rerun_requested.connect(self.start_deploy)
        self.done_page.open_requested.connect(
            lambda: self.open_requested.emit(self.result.agent_url or "")
            if self.result else None)
        self.busy = False
        self.target: Target | None = None
        self.host_key: HostKey | None = None
        self.facts: Facts | None = None
        self.settings: FlypackSettings | None = None
        self.result: DeployResult | None = None
        self.cancel = threading.Event()
        self.deploying = False
        self.launch_button: QPushButton | None = None  # on the fleet overview (wizard_fleet)
        self.reset()

    # --- navigation ------------------------------------------------------------------------

    def reset(self) -> None:
        self.banner.hide()
        self.target = self.host_key = self.facts = self.settings = self.result = None
        self.show_page(TARGET)
        if self.services.bundle is not None and not self.target_page.bundle.text():
            self.target_page.bundle.setText(str(self.services.bundle))
        if self.services.unsupported:
            self.banner.show_message(self.services.unsupported, "warning")
        self.update_nav()

    @property
    def page(self) -> int:
        return self.stack.currentIndex()

    def show_page(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        titles = [p.title for p in self.pages]
        self.steps.setText(" · ".join(f"<b><u>{i + 1} {t}</u></b>" if i == index else
                                      f"{i + 1} {t}" for i, t in enumerate(titles)))
        self.update_nav()

    def update_nav(self) -> None:
        p = self.page
        blocked = bool(self.services.unsupported)
        self.back.setVisible(p not in (TARGET, DONE))
        self.back.setEnabled(not self.busy and not self.deploying)
        self.next.setVisible(p != DONE)
        self.next.setText({REVIEW: "▶ Provision", RUN: "■ Cancel deploy"}.get(p, "Next ▶"))
        self.next.setEnabled(not blocked and (
            (p == RUN and self.deploying and not self.cancel.is_set()) or
            (p != RUN and not self.busy and (
                (p != HOSTKEY or self.key_page.confirmed) and
                (p != CHECKS or self.check_page.passed)))))
        self.close_button.setEnabled(not self.deploying)
        primary = "primary" if self.next.isEnabled() else ""  # disabled looks disabled
        if self.next.objectName() != primary:
            self.next.setObjectName(primary)
            self.next.style().unpolish(self.next)
            self.next.style().polish(self.next)

    def go_back(self) -> None:
        if not self.busy and not self.deploying and self.page > TARGET:
            self.banner.hide()
            self.show_page(self.page - 1)

    def go_next(self) -> None:
        if self.page == RUN:
            self.cancel_deploy()
            return
        if self.busy or not self.next.isEnabled():
            return
        self.banner.hide()
        step: dict[int, Callable[[], None]] = {
            TARGET: self.fetch_key, HOSTKEY: self.run_checks, CHECKS: self._to_settings,
            SETTINGS: self._to_review, REVIEW: self.start_deploy}
        step[self.page]()

    def _close(self) -> None:
        if not self.deploying:
            self.close_requested.emit()

    def fail(self, text: str) -> None:
        self.banner.show_message(text)

    def _background(self, fn: Callable[[], T], busy_text: str, on_success: Callable[[T], None],
                    on_failure: Callable[[BaseException], None] | None = None) -> None:
        """Run blocking ``fn`` on a worker thread; results come back on the GUI thread."""
        self.busy = True
        self.update_nav()
        self.banner.show_message(busy_text, "info")

        async def work() -> T:
            return await asyncio.get_event_loop().run_in_executor(None, fn)

        def ok(value: T) -> None:
            self.busy = False
            self.banner.hide()
            on_success(value)
            self.update_nav()

        def bad(exc: BaseException) -> None:
            self.busy = False
            self.banner.hide()
            if on_failure is not None:
                on_failure(exc)
            else:
                self.fail(describe(exc))
            self.update_nav()

        run_op(work(), self.fail, on_success=ok, on_failure=bad)

    # --- target and host key ---------------------------------------------------------------

    def fetch_key(self) -> None:
        t = self.target_page.target()
        problems = validate_target(t)
        if problems:
            self.fail("; ".join(problems))
            return
        self.target = t
        self._background(lambda: self.services.fetch_host_key(t.host, t.port),
                         f"Asking {t.host}:{t.port} for its SSH host key…", self._got_key)

    def _got_key(self, key: HostKey) -> None:
        assert self.target is not None
        t = self.target
        self.host_key = key
        where = f"{t.host}:{t.port}"
        try:
            status = self.services.hostkeys.check(t.host, t.port, key.fingerprint)
            self.key_page.show_key(where, key.key_type, key.fingerprint, status)
        except HostKeyChanged as exc:
            self.key_page.show_key(where, key.key_type, key.fingerprint, "changed",
                                   exc.remembered)
            self.fail(str(exc))
        if self.key_page.confirmed:
            self.target = replace(t, host_key_sha256=key.fingerprint)
        self.show_page(HOSTKEY)

    def _trust_key(self) -> None:
        if self.target is None or self.host_key is None:
            return
        t, k = self.target, self.host_key
        self.services.hostkeys.remember(t.host, t.port, k.fingerprint, k.key_type)
        self.target = replace(t, host_key_sha256=k.fingerprint)
        self.key_page.set_confirmed()
        self.update_nav()

    def _reject_key(self) -> None:
        self.target = None
        self.show_page(TARGET)
        self.fail("stopped: the host key did not match — this may not be the machine you "
                  "mean, or someone is in between. Check the address and the console.")

    def _forget_key(self) -> None:
        if self.target is not None and self.host_key is not None:
            self.services.hostkeys.forget(self.target.host, self.target.port)
            self.banner.hide()
            self._got_key(self.host_key)

    # --- checks ----------------------------------------------------------------------------

    def run_checks(self) -> None:
        t = self.target
        if t is None or not t.host_key_sha256:
            self.fail("confirm the host key first")
            return
        has_bundle = self.target_page.bundle_path() is not None
        mirror = self.target_page.mirror_url()

        def work() -> tuple[Facts, list[Check]]:
            with self.services.connect(t) as session:
                facts = preflight.gather(session, become_password=t.become_password,
                                         mirror=mirror)
            bundle = self.target_page.bundle_path()
            if bundle is not None and not bundle.is_file():
                raise ProvisionError(f"the offline bundle {bundle} does not exist",
                                     "choose the bundle file on the first page")
            return facts, preflight.evaluate(facts, has_bundle=has_bundle)

        self.show_page(CHECKS)
        self.check_page.set_busy(f"Checking {t.user}@{t.host}…")
        self._background(work, f"Logging in to {t.user}@{t.host} and checking it…",
                         self._got_checks, self._checks_failed)

    def _got_checks(self, value: tuple[Facts, list[Check]]) -> None:
        self.facts, checks = value
        self.check_page.show_checks(checks)
        addresses: dict[str, str] = {}
        for line in self.facts.multi.get("addr", []):
            name, _, cidr = line.partition(" ")
            addresses.setdefault(name, cidr)
        self.settings_page.set_interfaces(self.facts.multi.get("iface", []), addresses)

    def _checks_failed(self, exc: BaseException) -> None:
        self.check_page.show_checks([])
        self.check_page.summary.setText("✕ The checks could not run")
        if isinstance(exc, LoginFailed):
            self.show_page(TARGET)
            self.target_page.password.setFocus()
        self.fail(describe(exc))

    # --- settings and review ---------------------------------------------------------------

    def _to_settings(self) -> None:
        self.show_page(SETTINGS)

    def _to_review(self) -> None:
        s = self.settings_page.check()
        if s is None:
            n = self.settings_page.problem_count
            self.fail(f"{n} setting{'s need' if n != 1 else ' needs'} a change: see the "
                      "messages under the fields")
            return
        assert self.target is not None
        self.settings = s
        bundle = self.target_page.bundle_path()
        source = (f"offline bundle {bundle}" if bundle else
                  f"mirror {self.target_page.mirror_url()}")
        warnings = [c for c in self.check_page.checks if c.status == "warn"]
        self.review_page.show_review(review_html(self.target, s, source, warnings))
        self.show_page(REVIEW)

    # --- deploy ----------------------------------------------------------------------------

    def start_deploy(self) -> None:
        if self.deploying or self.target is None or self.settings is None:
            return
        driver = self.services.make_driver(self.target, self.settings,
                                           self.target_page.bundle_path(),
                                           self.services.workdir)
        self.cancel = threading.Event()
        self.deploying = True
        self.run_page.reset()
        self.show_page(RUN)
        loop = asyncio.get_event_loop()

        def on_event(ev: DeployEvent) -> None:  # worker thread -> GUI thread
            loop.call_soon_threadsafe(self.run_page.add_event, ev)

        async def work() -> DeployResult:
            return await loop.run_in_executor(None, driver.run, on_event, self.cancel)

        def failed(exc: BaseException) -> None:
            from desktop.provisioning.deploy import DeployResult

            self._deployed(DeployResult("failed", 0, None, describe(exc), None, None, None,
                                        None))

        run_op(work(), self.fail, on_success=self._deployed, on_failure=failed)

    def cancel_deploy(self) -> None:
        if self.deploying:
            self.cancel.set()
            self.run_page.status.setText("■ Canceling: the current task finishes first…")
            self.update_nav()

    def _deployed(self, result: DeployResult) -> None:
        self.deploying = False
        self.result = result
        self.run_page.finished(result)
        stored = ""
        if result.status == "successful" and result.admin_password and result.agent_url:
            where = self.services.secrets.put(
                password_key(result.agent_url, result.admin_user or "admin"),
                result.admin_password, persist=True)
            stored = ("stored in the system keyring" if where == "keyring" else
                      f"kept for this session only ({self.services.secrets.problem}) — "
                      "note it down now")
        assert self.settings is not None
        self.done_page.show_result(result, self.settings.flypack_id, stored)
        self.show_page(DONE)
        if result.status == "successful":
            self.provisioned.emit(result)

    def stored_password(self, url: str, user: str) -> str | None:
        return self.services.secrets.get(password_key(url, user))
