"""The main window: login view, then the dashboard of one agent.

Services are injected: the window takes an :class:`AgentClient` (or a ``connect(url)`` factory
for when the user types another URL) and never builds network code itself. Login runs as a
coroutine on the qasync loop; nothing here blocks or calls ``exec()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from desktop.client import AgentClient, AgentError, normalize_url
from desktop.ui import theme as themes
from desktop.ui.dashboard import Dashboard
from desktop.ui.errors import describe, run_op
from desktop.ui.login import LoginView
from desktop.ui.qt import QApplication, QCloseEvent, QMainWindow, QStackedWidget, QWidget
from desktop.ui.session import LiveSession

log = logging.getLogger("flypack.desktop")


class MainWindow(QMainWindow):
    def __init__(
        self,
        client: AgentClient | None = None,
        *,
        connect: Callable[[str], AgentClient] = AgentClient,
        user: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("flypack")
        self.client = client
        self.make_client = connect
        self.session: LiveSession | None = None
        self.theme = themes.DARK
        self.stack = QStackedWidget()
        self.login = LoginView(client.base_url if client else "", user)
        self.dashboard = Dashboard()
        self.stack.addWidget(self.login)
        self.stack.addWidget(self.dashboard)
        self.setCentralWidget(self.stack)
        self.statusBar().showMessage("not connected")
        self.login.submitted.connect(self.start_login)
        self.dashboard.logout_requested.connect(lambda: self.end_session("logged out"))
        self.dashboard.theme_toggled.connect(self.set_sunlight)
        self.resize(1366, 768)
        self._login_task: asyncio.Task[AgentClient] | None = None

    # --- login ---------------------------------------------------------------------------

    def start_login(self, url: str, user: str, password: str) -> None:
        self.login.set_busy(True, f"Connecting to {url}…")
        self._login_task = run_op(self._login(url, user, password), self.login.fail,
                                  on_success=self._logged_in,
                                  on_failure=lambda e: self.login.fail(describe(e)))

    async def _login(self, url: str, user: str, password: str) -> AgentClient:
        base = normalize_url(url)
        client = self.client
        if client is None or client.base_url != base:
            if client is not None:
                await client.aclose()
            client = self.client = self.make_client(base)
        await client.login(user, password)
        health = await client.health()
        self.dashboard.set_identity(health.flypack, client.base_url, user,
                                    client.session.role.value if client.session else "?")
        return client

    def _logged_in(self, client: AgentClient) -> None:
        self.login.clear_password()
        self.login.set_busy(False)
        self.login.message.setText("")
        self.dashboard.banner.hide()
        self.session = LiveSession(client, self.dashboard, status=self.statusBar().showMessage)
        self.session.ended.connect(self.end_session)
        self.session.start()
        self.stack.setCurrentWidget(self.dashboard)
        self.statusBar().showMessage(f"connected to {client.base_url}")

    def end_session(self, reason: str) -> None:
        """Back to the login view (logout, or the agent refused our tokens)."""
        session, self.session = self.session, None
        if session is not None:
            run_op(session.stop(), self.show_error)
        if self.client is not None:
            self.client.logout()
        self.stack.setCurrentWidget(self.login)
        self.login.set_busy(False)
        self.login.message.setText(reason)
        self.login.focus_first_empty()
        self.statusBar().showMessage("not connected")

    # --- errors and looks ---------------------------------------------------------------

    def show_error(self, text: str) -> None:
        if self.stack.currentWidget() is self.dashboard:
            self.dashboard.banner.show_message(text)
        else:
            self.login.fail(text)

    def set_sunlight(self, on: bool) -> None:
        self.theme = themes.SUNLIGHT if on else themes.DARK
        app = QApplication.instance()
        if isinstance(app, QApplication):
            themes.apply(app, self.theme)
        self.dashboard.apply_theme(self.theme)
        if self.dashboard.sunlight.isChecked() != on:
            self.dashboard.sunlight.setChecked(on)

    async def shutdown(self) -> None:
        """Stop the session and close the client (call before the loop stops)."""
        if self._login_task is not None and not self._login_task.done():
            self._login_task.cancel()
        if self.session is not None:
            await self.session.stop()
            self.session = None
        if self.client is not None:
            try:
                await self.client.aclose()
            except AgentError as exc:
                log.warning("closing the client: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.statusBar().showMessage("closing…")
        event.accept()
