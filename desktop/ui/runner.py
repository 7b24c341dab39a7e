"""The qasync bootstrap: one QApplication, one event loop, one excepthook, a clean exit."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import qasync

from desktop.client import AgentClient, AgentError, FleetFile, SecretStore, default_config_dir
from desktop.ui import theme as themes
from desktop.ui.errors import install_excepthook
from desktop.ui.fleet import FleetWindow
from desktop.ui.qt import QApplication

if TYPE_CHECKING:
    from desktop.ui.window import MainWindow

log = logging.getLogger("flypack.desktop")


class AppWindow(Protocol):
    def show(self) -> None: ...
    def show_error(self, text: str) -> None: ...
    async def shutdown(self) -> None: ...


W = TypeVar("W", bound=AppWindow)


def make_app(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("flypack")
    app.setApplicationDisplayName("flypack")
    themes.apply(app, themes.DARK)
    return app


def run_with_loop(app: QApplication,
                  body: Callable[[W], Coroutine[Any, Any, int]] | None,
                  window: W) -> int:
    """Run the qasync loop until the window closes (or ``body`` returns); shut down cleanly."""
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_excepthook(window.show_error, loop)
    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C / systemd stop: a clean exit
        signal.signal(sig, lambda *_: app.quit())
    code = 0
    with loop:
        if body is None:
            window.show()
            loop.run_until_complete(closing.wait())
        else:
            code = loop.run_until_complete(body(window))

        loop.run_until_complete(window.shutdown())
    return code


def run_desktop(url: str, user: str, password: str | None) -> int:
    app = make_app()
    try:
        client = AgentClient(url) if url else None
    except AgentError as exc:
        print(f"flypack-desktop: {exc}", file=sys.stderr)
        return 2
    from desktop.ui.window import MainWindow  # the dashboard loads pyqtgraph: only when used

    window = MainWindow(client, user=user)
    if password and client is not None and user:
        # scripted demos: log in at once (the loop starts in run_with_loop)
        async def autologin(w: MainWindow) -> int:
            w.show()
            w.start_login(url, user, password)
            closing = asyncio.Event()
            app.aboutToQuit.connect(closing.set)
            await closing.wait()
            return 0

        return run_with_loop(app, autologin, window)
    window.login.focus_first_empty()
    return run_with_loop(app, None, window)


def run_fleet(config_dir: Path | None = None, smoke: bool = False) -> int:
    """The fleet window (the default): known flypacks from the fleet file, logins resumed.
    ``smoke``: show and paint the main window once, say so on stdout, exit 0 (bundle test)."""
    app = make_app()
    try:
        fleet = FleetFile.load((config_dir or default_config_dir()) / "fleet.json")
    except AgentError as exc:
        print(f"flypack-desktop: {exc}", file=sys.stderr)
        return 2
    window = FleetWindow(fleet, SecretStore.detect())

    async def body(w: FleetWindow) -> int:
        w.show()
        w.start()
        if smoke:
            await asyncio.sleep(0.5)
            ok = not w.grab().isNull()
            print(f"flypack-desktop: main window {'ready' if ok else 'NOT painted'} "
                  f"({type(w).__name__}, {len(w.members)} flypacks)", flush=True)
            return 0 if ok else 1
        closing = asyncio.Event()
        app.aboutToQuit.connect(closing.set)
        await closing.wait()
        return 0

    return run_with_loop(app, body, window)
