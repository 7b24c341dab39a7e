"""The fleet window: overview of every known flypack, adding one (fingerprint, login), and
each flypack's dashboard. Services are injected (fleet file, secret store, client factory).

    FleetFile ─► Member(entry, AgentClient pinned to its certificate, JobsApi)
                   ├─ poll every POLL_S: take_snapshot() ─► summarize() ─► overview tiles
                   ├─ refresh token ─► SecretStore (keyring, or this session's memory)
                   └─ tap ─► Dashboard + LiveSession, opened at the most severe problem

Nothing here blocks: coroutines run on the one qasync loop through :func:`run_op`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.client import (
    AgentClient,
    AgentError,
    AuthFailed,
    CertificateChanged,
    FleetEntry,
    FleetFile,
    JobsApi,
    PeerCertificate,
    SecretStore,
    Session,
    fetch_certificate,
    normalize_url,
    take_snapshot,
)
from desktop.model.overview import FlypackSnapshot, Target, Tile, still_a_problem, summarize
from desktop.ui import theme as themes
from desktop.ui.addflypack import AddFlypackView
from desktop.ui.errors import run_op
from desktop.ui.overview import OverviewView
from desktop.ui.qt import QApplication, QCloseEvent, QMainWindow, QStackedWidget, QWidget
from desktop.ui.wizard_fleet import attach_wizard

if TYPE_CHECKING:  # loaded with the first dashboard: pyqtgraph and numpy cost start time
    from desktop.ui.dashboard import Dashboard
    from desktop.ui.session import LiveSession

log = logging.getLogger("flypack.desktop.fleet")
POLL_S = 2.0
ClientFactory = Callable[..., AgentClient]


@dataclass
class Member:
    entry: FleetEntry
    client: AgentClient
    jobs: JobsApi
    remember: bool = True
    snapshot: FlypackSnapshot | None = None
    error: str = ""
    logged_in: bool = False
    dashboard: Dashboard | None = None
    session: LiveSession | None = None
    pending_token: str | None = None  # stored login not yet used (agent was unreachable)

    def tile(self, now: float) -> Tile:
        return summarize(self.entry.url, self.entry.name or self.entry.url, self.snapshot, now,
                         self.error, self.logged_in)


def _place(t: Target) -> tuple[str, str | int | None]:
    """Where a target points (its wording may change while the problem stays)."""
    return t.tab, t.item


class FleetWindow(QMainWindow):
    def __init__(self, fleet: FleetFile, secrets: SecretStore, *,
                 connect: ClientFactory = AgentClient, poll_s: float = POLL_S,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("flypack — fleet")
        self.fleet, self.secrets, self.make_client, self.poll_s = fleet, secrets, connect, poll_s
        self.members: dict[str, Member] = {}
        self.theme = themes.DARK
        self.pending_cert: PeerCertificate | None = None
        self.stack = QStackedWidget()
        self.overview = OverviewView()
        self.add_view = AddFlypackView()
        self.add_view.set_keyring(secrets.persistent, secrets.problem)
        self.stack.addWidget(self.overview)
        self.stack.addWidget(self.add_view)
        self.setCentralWidget(self.stack)
        self.overview.add_requested.connect(self.show_add)
        self.overview.tile_tapped.connect(self.open_flypack)
        self.overview.theme_toggled.connect(self.set_sunlight)
        self.add_view.check_requested.connect(self.check_url)
        self.add_view.trust_requested.connect(self.trust_certificate)
        self.add_view.login_requested.connect(self.log_in)
        self.add_view.cancel_requested.connect(self.show_overview)
        self.wizard = attach_wizard(self)  # "Provision new flypack" + the wizard page
        self._poll: asyncio.Task[None] | None = None
        self.current: Member | None = None
        self.resize(1366, 768)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        for entry in self.fleet.entries:
            m = self._member(entry)
            token = self.secrets.get(entry.key)
            if token:
                run_op(self._resume(m, token), self.statusBar().showMessage)
        self.refresh_tiles()
        self._poll = asyncio.get_event_loop().create_task(self._poll_loop())

    def _member(self, entry: FleetEntry, remember: bool = True) -> Member:
        holder: list[Member] = []
        client = self.make_client(entry.url, pin=entry.pin,
                              on_session=lambda s: self._session_changed(holder, s))
        m = Member(entry, client, JobsApi(client), remember)
        holder.append(m)
        self.members[entry.url] = m
        return m

    def _session_changed(self, holder: list[Member], s: Session | None) -> None:
        if not holder or s is None:
            return
        m = holder[0]
        where = self.secrets.put(m.entry.key, s.refresh_token, persist=m.remember)
        log.debug("refresh token for %s kept in %s", m.entry.url, where)

    async def _resume(self, m: Member, token: str) -> None:
        try:
            await m.client.resume(m.entry.username, token)
        except AuthFailed:
            self.secrets.delete(m.entry.key)
            m.error = "the stored login expired — tap to log in"
            self.refresh_tiles()
            return
        except AgentError as exc:
            m.error = str(exc)  # unreachable now; the poll loop resumes when it can
            m.pending_token = token
            self.refresh_tiles()
            return
        m.logged_in, m.error = True, ""
        await self.poll_member(m)

    async def _poll_loop(self) -> None:
        """Each flypack on its own: an unreachable one (waiting for its timeout) never delays
        the others' tiles; a flypack's next poll starts only when its last one ended."""
        inflight: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                for url, m in list(self.members.items()):
                    task = inflight.get(url)
                    if task is None or task.done():
                        inflight[url] = asyncio.get_event_loop().create_task(
                            self.poll_member(m))
                self.refresh_tiles()
                await asyncio.sleep(self.poll_s)
        finally:
            for task in inflight.values():
                task.cancel()

    async def poll_member(self, m: Member) -> None:
        if not m.logged_in:
            token, m.pending_token = m.pending_token, None
            if token:  # the agent was unreachable at start: try the stored login again
                await self._resume(m, token)
            return
        try:
            m.snapshot = await take_snapshot(m.client, m.jobs)
            m.error = ""
            if m.snapshot.flypack and m.snapshot.flypack != m.entry.name:
                m.entry.name = m.snapshot.flypack
                self.fleet.save()
        except AuthFailed as exc:
            m.logged_in, m.error = False, str(exc)
        except CertificateChanged as exc:
            m.error = str(exc)
        except AgentError as exc:
            m.error = str(exc)
        self.refresh_tiles()

    def refresh_tiles(self) -> None:
        now = time.time()
        self.overview.set_tiles([m.tile(now) for m in self.members.values()])
        for m in self.members.values():  # "most severe problem: …" goes when it is over
            d, snap = m.dashboard, m.snapshot
            if d is not None and isinstance(d.context_target, tuple) and snap is not None \
                    and not m.error and not still_a_problem(snap, *d.context_target):
                d.clear_context()

    async def shutdown(self) -> None:
        """Stop polls, sessions and clients; each step bounded so closing never hangs."""
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.wait([self._poll], timeout=5)
        for m in self.members.values():
            if m.session is not None:
                await m.session.stop()
                m.session = None
            if m.dashboard is not None:
                await m.dashboard.jobs.stop()
            try:
                await asyncio.wait_for(m.client.aclose(), 5)
            except (AgentError, TimeoutError) as exc:
                log.warning("closing %s: %s", m.entry.url, exc or "timed out")

    # --- adding and logging in -------------------------------------------------------------

    def show_overview(self) -> None:
        self.current = None
        self.stack.setCurrentWidget(self.overview)
        self.refresh_tiles()

    def show_add(self) -> None:
        self.pending_cert = None
        self.add_view.reset()
        self.stack.setCurrentWidget(self.add_view)
        self.add_view.url.setFocus()

    def check_url(self, url: str) -> None:
        try:
            url = normalize_url(url)
        except AgentError as exc:
            self.add_view.fail(str(exc))
            return
        self.add_view.url.setText(url)
        if not url.startswith("https://"):
            self.pending_cert = None
            self.add_view.show_login("Plain HTTP: nothing to pin — use it only for an agent on "
                                     "this laptop (loopback demos).")
            return
        self.add_view.set_busy(True, f"Fetching the certificate of {url}…")
        run_op(fetch_certificate(url), self.add_view.fail,
               on_success=lambda cert: self._got_certificate(url, cert))

    def _got_certificate(self, url: str, cert: PeerCertificate) -> None:
        self.add_view.set_busy(False)
        known = self.fleet.find(url)
        if known is not None and known.fingerprint and known.fingerprint != cert.fingerprint:
            self.add_view.fail(str(CertificateChanged(url, known.fingerprint, cert.fingerprint)))
            return
        self.pending_cert = cert
        self.add_view.show_fingerprint(url, cert.fingerprint)

    def trust_certificate(self) -> None:
        fp = self.pending_cert.fingerprint if self.pending_cert else ""
        self.add_view.show_login(f"✓ Certificate pinned ({fp[:23]}…). Now log in.")

    def log_in(self, url: str, user: str, password: str, remember: bool) -> None:
        self.add_view.set_busy(True, f"Logging in to {url}…")
        run_op(self._log_in(url, user, password, remember), self.add_view.fail,
               on_success=lambda m: self._logged_in(m))

    async def _log_in(self, url: str, user: str, password: str, remember: bool) -> Member:
        url = normalize_url(url)
        old = self.members.get(url)
        entry = FleetEntry(url, user)
        if self.pending_cert is not None:
            entry.fingerprint, entry.pem = self.pending_cert.fingerprint, self.pending_cert.pem
        elif old is not None:
            entry.fingerprint, entry.pem = old.entry.fingerprint, old.entry.pem
        elif url.startswith("https://"):
            raise AgentError("the certificate was not confirmed", "tap Connect first")
        if old is not None and (old.entry.username != user or old.entry.pin != entry.pin):
            await self._forget(old)
            old = None
        m = old or self._member(entry, remember)
        m.remember = remember
        await m.client.login(user, password)
        health = await m.client.health()
        m.entry.name = health.flypack
        self.fleet.add(m.entry)
        m.logged_in, m.error = True, ""
        return m

    async def _forget(self, m: Member) -> None:
        self.members.pop(m.entry.url, None)
        if m.session is not None:
            await m.session.stop()
        if m.dashboard is not None:
            self.stack.removeWidget(m.dashboard)
            m.dashboard.deleteLater()
        await m.client.aclose()

    def _logged_in(self, m: Member) -> None:
        self.add_view.set_busy(False)
        self.add_view.password.clear()
        self.pending_cert = None
        self.show_overview()
        run_op(self.poll_member(m), self.statusBar().showMessage)
        where = "the system keyring" if self.secrets.persistent and m.remember else \
            "memory for this session only" if m.remember else "nowhere (not remembered)"
        self.statusBar().showMessage(f"logged in to {m.entry.name}; login kept in {where}")

    # --- dashboards ------------------------------------------------------------------------

    def open_flypack(self, url: str) -> None:
        m = self.members.get(url)
        if m is None:
            return
        if not m.logged_in:
            self.pending_cert = None
            self.add_view.reset(url, m.entry.username, known=True)
            if m.error:
                self.add_view.message.setText(m.error)
            self.stack.setCurrentWidget(self.add_view)
            return
        d = m.dashboard
        if d is None:
            from desktop.ui.dashboard import Dashboard

            d = m.dashboard = Dashboard(fleet=True)
            d.apply_theme(self.theme)
            d.sunlight.setChecked(self.theme is themes.SUNLIGHT)
            d.back_requested.connect(self.show_overview)
            d.theme_toggled.connect(self.set_sunlight)
            d.logout_requested.connect(lambda m=m: self.log_out(m, "logged out"))
            s = m.client.session
            d.set_identity(m.entry.name, url, m.entry.username, s.role.value if s else "?")
            self.stack.addWidget(d)
        if m.session is None:
            from desktop.ui.session import LiveSession

            m.session = LiveSession(m.client, d, status=self.statusBar().showMessage)
            m.session.jobs = m.jobs
            m.session.ended.connect(lambda reason, m=m: self.log_out(m, reason))
            m.session.start()
        self.current = m
        self.stack.setCurrentWidget(d)
        target = m.tile(time.time()).target
        run_op(self.go_to(d, target), d.banner.show_message)

    async def go_to(self, d: Dashboard, target: Target, wait_s: float = 8.0) -> bool:
        """Show ``target`` (waiting for the first data of a fresh dashboard)."""
        d.clear_context()
        d.show_tab(target.tab if target.tab != "login" else "streams")
        if target.item is None:
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            done = (target.tab == "alarms" and isinstance(target.item, int)
                    and d.alarms.select_alarm(target.item)) or \
                (target.tab == "streams" and d.streams.select(str(target.item))) or \
                (target.tab == "devices" and d.open_device(str(target.item)))
            if done:
                if target.why:
                    d.show_context(f"Most severe problem: {target.why}",
                                   _place(target))
                return True
            await asyncio.sleep(0.2)
        return False

    def log_out(self, m: Member, reason: str) -> None:
        session, m.session = m.session, None
        if session is not None:
            run_op(session.stop(), self.statusBar().showMessage)
        m.client.logout()
        self.secrets.delete(m.entry.key)
        m.logged_in, m.error, m.snapshot = False, reason, None
        self.show_overview()
        self.statusBar().showMessage(f"{m.entry.name}: {reason}")

    # --- looks ---------------------------------------------------------------------------

    def set_sunlight(self, on: bool) -> None:
        self.theme = themes.SUNLIGHT if on else themes.DARK
        app = QApplication.instance()
        if isinstance(app, QApplication):
            themes.apply(app, self.theme)
        buttons = [self.overview.sunlight]
        for m in self.members.values():
            if m.dashboard is not None:
                m.dashboard.apply_theme(self.theme)
                buttons.append(m.dashboard.sunlight)
        for b in buttons:
            b.blockSignals(True)
            b.setChecked(on)
            b.blockSignals(False)
        self.refresh_tiles()

    def show_error(self, text: str) -> None:
        d = self.current.dashboard if self.current is not None else None
        if d is not None and self.stack.currentWidget() is d:
            d.banner.show_message(text)
        else:
            self.statusBar().showMessage(f"✕ {text}")

    def closeEvent(self, event: QCloseEvent) -> None:
        event.accept()
