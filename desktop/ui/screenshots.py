"""Screenshots of the main screens from a running agent, without a display.

    python -m desktop.ui.screenshots --url http://127.0.0.1:8443 --user viewer \\
        --password-env FLYPACK_PASSWORD --out docs/screenshots

The fleet window as a user meets it: "Add a flypack" by URL (an https certificate is pinned
as shown; the login is kept for this session only, never in the keyring or a fleet file of the
user's), then the flypack's dashboard. Waits for live data and saves, printing each path:

    login.png               the add-a-flypack login step
    fleet-overview.png      the fleet overview: the flypack's tile
    dashboard-streams.png   the Streams tab with a stream's path (the agent's hops; a failing
                            stream first, else the first stream with a path)
    dashboard.png           the Devices tab: live RTT and the RTT plot
    dashboard-jobs.png      the Jobs tab: the playbook catalog and the first playbook's form
    dashboard-alarms.png    the Alarms tab
    dashboard-sunlight.png  the Devices tab in the sunlight theme (not with --no-sunlight)

(names apart from the README's pictures in docs/screenshots, which the e2e tests take)

and ``screens.json`` beside them: what each screen showed (stream and hops, playbooks, alarms).
Exit 0 on success, 2 with a one-line reason otherwise (``make demo`` uses this when there is no
display).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop.client import AgentError, FleetFile, SecretStore, normalize_url
from desktop.model.stream_path import hops
from desktop.ui.fleet import FleetWindow, Member
from desktop.ui.qt import QWidget
from desktop.ui.runner import make_app, run_with_loop

if TYPE_CHECKING:
    from desktop.ui.dashboard import Dashboard

SIZE = (1366, 768)
PATH_WAIT_S = 15.0  # for a stream whose path the agent has judged


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


def live_ready(d: Dashboard, min_points: int = 3) -> bool:
    return (any(r.rtt_ms is not None for r in d.board.rows)
            and d.plot.point_count() >= min_points)


async def log_in(w: FleetWindow, url: str, user: str, password: str, out: Path,
                 limit_s: float) -> tuple[Member, Path]:
    """Add the flypack as a user does; login.png is the filled-in login step."""
    av = w.add_view

    def failed() -> str | None:
        text = av.message.text()
        return f"login failed: {text.lstrip('✕ ')}" if text.startswith("✕") else None

    w.show_add()
    av.url.setText(url)
    w.check_url(url)
    if url.startswith("https://"):  # the fingerprint shown, then pinned (as a user taps)
        await wait_for(lambda: av.cert.isVisible(), limit_s, "the certificate", failed)
        w.trust_certificate()
    av.user.setText(user)
    av.password.setText(password)
    await asyncio.sleep(0.2)
    shot = save(w, out / "login.png")
    w.log_in(url, user, password, False)  # this session only
    await wait_for(lambda: w.stack.currentWidget() is w.overview, limit_s, "the login", failed)
    return w.members[url], shot


async def streams_with_path(d: Dashboard, limit_s: float) -> dict[str, Any]:
    """Select a failing stream, else the first with the agent's path; say what is shown."""
    d.show_tab("streams")
    try:  # streams, and the agent's judgement of their paths (an agent may have neither)
        await wait_for(lambda: any(s.path for s in d.streams.model.streams),
                       min(limit_s, PATH_WAIT_S), "a stream's path")
    except ScreenshotError:
        pass
    streams = d.streams.model.streams
    if not streams:
        return {"stream": None, "agent_path": False, "hops": []}
    pick = next((s for s in streams if s.state == "alarm" and s.path), None) or \
        next((s for s in streams if s.path), streams[0])
    d.streams.select(pick.id)
    chain = hops(pick)
    return {"stream": pick.id, "state": pick.state, "agent_path": bool(pick.path),
            "hops": [h.name for h in chain],
            "first_failing_hop": next((h.name for h in chain if h.first), None)}


async def take(w: FleetWindow, url: str, user: str, password: str, out: Path,
               limit_s: float, settle: float, sunlight: bool) -> tuple[list[Path], dict[str, Any]]:
    url = normalize_url(url)
    w.resize(*SIZE)
    w.show()
    w.start()
    shown: dict[str, Any] = {}
    m, shot = await log_in(w, url, user, password, out, limit_s)
    paths = [shot]

    await wait_for(lambda: m.snapshot is not None and bool(m.snapshot.devices), limit_s,
                   "the flypack's first snapshot", lambda: m.error or None)
    w.refresh_tiles()
    await asyncio.sleep(0.3)
    paths.append(save(w, out / "fleet-overview.png"))
    tile = w.overview.tile_for(url)
    shown["overview"] = {"tile": tile.text() if tile is not None else ""}

    w.open_flypack(url)
    d = m.dashboard
    if d is None:
        raise ScreenshotError("the flypack's dashboard did not open")
    await wait_for(lambda: live_ready(d), limit_s,
                   "live data (a device with an RTT and a plot with points); "
                   "does the agent probe any device?")
    d.clear_context()  # the "opened at the most severe problem" note: not part of the screens
    await asyncio.sleep(settle)  # a few more points and the alarm poll

    shown["streams"] = await streams_with_path(d, limit_s)
    await asyncio.sleep(1.0)
    paths.append(save(w, out / "dashboard-streams.png"))

    d.show_tab("devices")
    await asyncio.sleep(0.3)
    paths.append(save(w, out / "dashboard.png"))
    shown["devices"] = {"rows": len(d.board.rows)}

    d.show_tab("jobs")
    jobs = d.jobs
    await wait_for(lambda: jobs.api is not None and jobs.api.available is not None, limit_s,
                   "the jobs catalog")
    if jobs.playbooks:
        jobs.catalog.setCurrentRow(0)
    await asyncio.sleep(0.3)
    paths.append(save(w, out / "dashboard-jobs.png"))
    shown["jobs"] = {"playbooks": [p.name for p in jobs.playbooks],
                     "unavailable": bool(jobs.unavailable)}

    d.show_tab("alarms")
    await asyncio.sleep(0.5)
    paths.append(save(w, out / "dashboard-alarms.png"))
    shown["alarms"] = {"rows": len(d.alarms.model.alarms),
                       "active": sum(a.active for a in d.alarms.model.alarms)}

    if sunlight:
        d.show_tab("devices")
        w.set_sunlight(True)
        await asyncio.sleep(0.3)
        paths.append(save(w, out / "dashboard-sunlight.png"))
        w.set_sunlight(False)
    return paths, shown


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
        normalize_url(args.url)
    except (OSError, AgentError) as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 2
    app = make_app()
    with tempfile.TemporaryDirectory(prefix="flypack-shots-") as tmp:
        # a fleet list of its own and no keyring: the user's own fleet is never touched
        window = FleetWindow(FleetFile.load(Path(tmp) / "fleet.json"), SecretStore(None),
                             poll_s=1.0)
        result: list[Path] = []

        async def body(w: FleetWindow) -> int:
            try:
                paths, shown = await take(w, args.url, args.user, password, args.out,
                                          args.timeout, args.settle, not args.no_sunlight)
            except ScreenshotError as exc:
                print(f"screenshots: {exc}", file=sys.stderr)
                return 2
            finally:  # while this loop still runs (its tasks need it to end cleanly)
                await w.shutdown()
            result.extend(paths)
            (args.out / "screens.json").write_text(json.dumps(shown, indent=2) + "\n")
            return 0

        code = run_with_loop(app, body, window)
        window.close()
    for path in result:
        print(path)
    return code


if __name__ == "__main__":
    sys.exit(main())
