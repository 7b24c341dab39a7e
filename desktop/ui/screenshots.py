"""Screenshots of the main screens from a running agent, without a display.

    python -m desktop.ui.screenshots --url http://127.0.0.1:8443 --user viewer \\
        --password-env FLYPACK_PASSWORD --out docs/screenshots

Logs in through the real login view, waits until live data has arrived (devices with an RTT,
a plot with points), saves ``login.png``, ``dashboard.png`` and ``dashboard-sunlight.png`` and
prints their paths. Exit 0 on success, 2 with a one-line reason otherwise (``make demo`` uses
this when there is no display).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop.client import AgentClient, AgentError
from desktop.ui.qt import QWidget
from desktop.ui.runner import make_app, run_with_loop
from desktop.ui.window import MainWindow

SIZE = (1366, 768)


class ScreenshotError(Exception):
    """Why the screenshots could not be taken (exit 2)."""


async def wait_for(cond: Callable[[], bool], limit_s: float, what: str,
                   fail: Callable[[], str | None] = lambda: None) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        reason = fail()
        if reason:
            raise ScreenshotError(reason)
        if time.monotonic() > deadline:
            raise ScreenshotError(f"timed out after {limit_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


def save(widget: QWidget, path: Path) -> Path:
    # no processEvents() here: called from coroutines, a nested loop re-enters qasync
    if not widget.grab().save(str(path)):
        raise ScreenshotError(f"could not write {path}")
    return path


def live_ready(w: MainWindow, min_points: int = 3) -> bool:
    d = w.dashboard
    return (any(r.rtt_ms is not None for r in d.board.rows)
            and d.plot.point_count() >= min_points)


async def log_in(w: MainWindow, url: str, user: str, password: str, limit_s: float) -> None:
    w.login.url.setText(url)
    w.login.user.setText(user)
    w.login.password.setText(password)
    w.start_login(url, user, password)

    def login_failed() -> str | None:
        if w.stack.currentWidget() is w.login and w.login.button.isEnabled():
            return f"login failed: {w.login.message.text().lstrip('✕ ')}"
        return None

    await wait_for(lambda: w.stack.currentWidget() is w.dashboard, limit_s, "the login",
                   login_failed)


async def take(w: MainWindow, url: str, user: str, password: str, out: Path,
               limit_s: float, settle: float, sunlight: bool) -> list[Path]:
    w.resize(*SIZE)
    w.show()
    w.login.url.setText(url)
    w.login.user.setText(user)
    w.login.password.setText(password)
    await asyncio.sleep(0.2)
    paths = [save(w, out / "login.png")]
    await log_in(w, url, user, password, limit_s)
    await wait_for(lambda: live_ready(w), limit_s,
                   "live data (a device with an RTT and a plot with points); "
                   "does the agent probe any device?")
    w.dashboard.show_tab("devices")  # devices with live RTT and the RTT plot
    await asyncio.sleep(settle)  # a few more points and the alarm poll
    paths.append(save(w, out / "dashboard.png"))
    if sunlight:
        w.set_sunlight(True)
        await asyncio.sleep(0.3)
        paths.append(save(w, out / "dashboard-sunlight.png"))
        w.set_sunlight(False)
    return paths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m desktop.ui.screenshots",
                                description="Save PNGs of the desktop's main screens.")
    p.add_argument("--url", required=True, help="agent URL, e.g. http://127.0.0.1:8443")
    p.add_argument("--user", required=True)
    p.add_argument("--password-env", required=True, metavar="VAR",
                   help="name of the environment variable holding the password")
    p.add_argument("--out", required=True, type=Path, help="directory for the PNGs")
    p.add_argument("--timeout", type=float, default=45.0, help="seconds to wait for live data")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds of live data to collect after the first points")
    p.add_argument("--no-sunlight", action="store_true", help="skip dashboard-sunlight.png")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    password = os.environ.get(args.password_env)
    if not password:
        print(f"screenshots: environment variable {args.password_env} is empty or unset",
              file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        client = AgentClient(args.url)
    except (OSError, AgentError) as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 2
    app = make_app()
    window = MainWindow(client, user=args.user)
    result: list[Path] = []

    async def body(w: MainWindow) -> int:
        try:
            result.extend(await take(w, args.url, args.user, password, args.out,
                                     args.timeout, args.settle, not args.no_sunlight))
        except ScreenshotError as exc:
            print(f"screenshots: {exc}", file=sys.stderr)
            return 2
        return 0

    code = run_with_loop(app, body, window)
    window.close()
    for path in result:
        print(path)
    return code


if __name__ == "__main__":
    sys.exit(main())
