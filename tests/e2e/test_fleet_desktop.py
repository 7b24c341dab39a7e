"""The field desktop end to end: the real fleet window (qasync + Qt, offscreen) against a real
TLS agent subprocess running the simulated segment.

    add flypack by URL -> confirm the SHA-256 fingerprint -> log in (keyring refused here:
    session-only memory) -> overview tile -> inject a fault (sim fault API) -> tile shows it
    within seconds -> tap: dashboard at the most severe problem -> streams / devices / device
    page / jobs (run, live output, cancel) / alarms (ack) -> sunlight -> touch check on every
    screen -> agent restart survived -> a changed certificate is refused

Screenshots of every main screen land in docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.client import FleetFile, LinkState, SecretStore
from desktop.model.overview import Level
from desktop.model.streams import has_srt
from desktop.ui import theme
from desktop.ui.fleet import FleetWindow
from desktop.ui.qt import QApplication, QPoint, QSpinBox, Qt, QWidget
from desktop.ui.touch import touch_problems
from tests.e2e.fleet_support import TlsAgent, make_cert, run_loop, shot, tls_sim_agent, until
from tests.support import PASSWORDS, AgentProc, agent_process, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]  # two agents, one restarted mid-test
LEFT = Qt.MouseButton.LeftButton


def fits(w: QWidget, screen: str) -> None:
    problems = touch_problems(w)
    assert not problems, f"{screen}: " + "; ".join(problems)


@pytest.fixture
def agent(tmp_path: Path) -> Any:
    with tls_sim_agent(tmp_path / "agent") as a:
        yield a


@pytest.fixture
def south(tmp_path: Path, agent: TlsAgent) -> Any:
    """A second flypack: plain HTTP on loopback, no simulator; one device answers (the north
    agent's port), one never does."""
    extra = ("[probes]\ninterval_s = 1.0\ntimeout_s = 0.3\n"
             f'[[devices]]\nname = "gw-01"\naddress = "127.0.0.1"\nrole = "router"\n'
             f'probes = ["tcp:{agent.port}"]\n'
             f'[[devices]]\nname = "sw-dead"\naddress = "127.0.0.1"\nrole = "switch"\n'
             f'probes = ["tcp:{free_port()}"]\n')
    (tmp_path / "south").mkdir()
    with agent_process(tmp_path / "south", extra) as proc:
        yield proc


def test_fleet_desktop_end_to_end(qtbot: QtBot, qapp: QApplication, agent: TlsAgent,
                                  south: AgentProc, tmp_path: Path) -> None:
    theme.apply(qapp, theme.DARK)
    fleet_path = tmp_path / "cfg" / "fleet.json"
    secrets = SecretStore.detect()
    w = FleetWindow(FleetFile.load(fleet_path), secrets, poll_s=1.0)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    api = agent.http("operator")

    def log() -> str:
        return "agent log:\n" + agent.log_tail()

    async def scenario() -> None:
        w.start()
        assert w.overview.empty.isVisible()
        # --- add by URL, first contact: fingerprint shown and confirmed --------------------
        qtbot.mouseClick(w.overview.add, LEFT)  # type: ignore[no-untyped-call]
        av = w.add_view
        qtbot.keyClicks(av.url, agent.url)  # type: ignore[no-untyped-call]
        qtbot.mouseClick(av.check, LEFT)  # type: ignore[no-untyped-call]
        await until(lambda: av.cert.isVisible(), 15, "the fingerprint", av.message.text)
        assert av.fingerprint.text() == agent.fingerprint
        qtbot.mouseClick(av.trust, LEFT)  # type: ignore[no-untyped-call]
        assert av.login.isVisible()
        if not secrets.persistent:  # this machine has only the fail backend: refused
            assert "session only" in av.remember.text()
        qtbot.keyClicks(av.user, "operator")  # type: ignore[no-untyped-call]
        qtbot.keyClicks(av.password, PASSWORDS["operator"])  # type: ignore[no-untyped-call]
        qtbot.mouseClick(av.login_button, LEFT)  # type: ignore[no-untyped-call]
        await until(lambda: w.stack.currentWidget() is w.overview, 20, "the overview",
                    av.message.text)
        saved = FleetFile.load(fleet_path).entries
        assert [(e.url, e.fingerprint) for e in saved] == [(agent.url, agent.fingerprint)]
        assert "refresh_token" not in fleet_path.read_text()
        # a second flypack over plain HTTP (loopback): nothing to pin, straight to login
        qtbot.mouseClick(w.overview.add, LEFT)  # type: ignore[no-untyped-call]
        qtbot.keyClicks(av.url, south.url)  # type: ignore[no-untyped-call]
        qtbot.mouseClick(av.check, LEFT)  # type: ignore[no-untyped-call]
        assert av.login.isVisible() and not av.cert.isVisible()
        assert "Plain HTTP" in av.message.text()
        qtbot.keyClicks(av.user, "viewer")  # type: ignore[no-untyped-call]
        qtbot.keyClicks(av.password, PASSWORDS["viewer"])  # type: ignore[no-untyped-call]
        qtbot.mouseClick(av.login_button, LEFT)  # type: ignore[no-untyped-call]
        await until(lambda: w.stack.currentWidget() is w.overview, 20, "the overview again",
                    av.message.text)
        assert len(FleetFile.load(fleet_path).entries) == 2
        m = w.members[agent.url]
        await until(lambda: m.snapshot is not None and m.snapshot.devices and
                    any(p.rtt_ms is not None for d in m.snapshot.devices for p in d.probes),
                    30, "a first snapshot with live probe results", log)
        await asyncio.sleep(2)

        # --- a fault reaches the tile within seconds ------------------------------------
        r = api.put("/sim/faults/enc-02", json={"down": True})
        assert r.status_code == 200, r.text
        def north_tile() -> Any:
            return w.overview.tile_for(agent.url)

        def faulted() -> bool:
            b = north_tile()
            t = b.tile if b is not None else None
            return t is not None and t.devices_down + t.devices_degraded >= 1 and \
                "enc-02" in b.text()

        took = await until(faulted, 20,
                           "the tile to show enc-02 down",
                           lambda: f"error={m.error!r} tile={north_tile().text()!r}")
        print(f"fault -> tile: {took:.1f} s")
        tile = north_tile().tile
        assert tile is not None and tile.level >= Level.warning

        # --- one tap: the dashboard at the most severe problem ---------------------------
        await asyncio.sleep(3)  # let the alarms follow (a fuller picture)
        w.refresh_tiles()
        sm = w.members[south.url]
        await until(lambda: sm.snapshot is not None and any(
            p.up is False for d in sm.snapshot.devices for p in d.probes), 15, "south's sw-dead")
        w.refresh_tiles()
        assert [b.tile.url for b in w.overview.tiles if b.tile] == [agent.url, south.url]
        fits(w, "overview")
        await shot(w, "overview.png")
        qtbot.mouseClick(w.overview.sunlight, LEFT)  # type: ignore[no-untyped-call]
        assert w.theme is theme.SUNLIGHT
        await shot(w, "overview-sunlight.png")
        qtbot.mouseClick(w.overview.sunlight, LEFT)  # type: ignore[no-untyped-call]
        target = m.tile(time.time()).target
        qtbot.mouseClick(north_tile(), LEFT)  # type: ignore[no-untyped-call]
        d = w.members[agent.url].dashboard
        assert d is not None
        await until(lambda: d.tabs.currentIndex() == ("streams", "devices", "jobs",
                                                      "alarms").index(target.tab), 10,
                    f"the {target.tab} tab")
        tabs_at = d.tabs.tabBar().mapTo(w, QPoint(0, 0)).y()
        await until(lambda: "most severe" in d.context.full.lower(), 10, "the drill-down note")
        await asyncio.sleep(0.3)  # laid out: the note sits in the top bar, the tabs stay
        assert d.tabs.tabBar().mapTo(w, QPoint(0, 0)).y() == tabs_at
        assert m.session is not None
        await until(lambda: m.session is not None
                    and m.session.stream.status.state is LinkState.up, 15, "the live link")

        # streams: live curves and counters
        d.show_tab("streams")
        await until(lambda: d.streams.model.streams, 15, "the stream list")
        ok = [s for s in d.streams.model.streams if s.state == "ok"]
        assert d.streams.model.streams[0].state == "alarm"  # by exception: failing first
        failing = d.streams.model.streams[0]
        d.streams.select(failing.id)
        chip = d.streams.first_failing_hop()
        assert chip is not None and "FIRST FAILING HOP" in chip.text()
        if failing.first_failing_hop:  # the agent's path: its first failing hop is marked
            assert chip.text().splitlines()[0].endswith(failing.first_failing_hop)
        print("streams: path from", "the agent" if failing.path else "the local chain",
              "; first failing hop:", chip.text().splitlines()[0])
        await shot(w, "streams-path.png")  # the failing stream: its path, first hop marked
        d.streams.select((ok or d.streams.model.streams)[0].id)
        await until(lambda: d.streams.plot.point_count() >= 20, 30, "stream plot points", log)
        cur = d.streams.current()
        if has_srt(cur):  # SRT legs: the SRT RTT curve for the picture
            d.streams.pick_plot("SRT RTT ms")
            await until(lambda: d.streams.df_plot.point_count() >= 10, 20, "SRT RTT points")
        print("streams.png lower plot:", d.streams.df_plot.title)
        await asyncio.sleep(1.5)
        fits(w, "streams")
        await shot(w, "streams.png")
        d.streams.set_range(900.0)
        await until(lambda: "source:" in d.streams.note.text(), 15, "15 min history",
                    d.streams.note.text)
        d.streams.set_range(0.0)

        # devices: table, filter, device page
        d.show_tab("devices")
        await until(lambda: len(d.board.rows) >= 10, 10, "devices")
        d.search.setText("enc")
        assert 0 < sum(not d.devices.isRowHidden(i) for i in range(len(d.board.rows))) < \
            len(d.board.rows)
        d.search.setText("")
        await asyncio.sleep(1.0)
        fits(w, "devices")
        await shot(w, "devices.png")
        assert d.open_device("enc-02")
        await asyncio.sleep(1.0)
        assert "UP" not in d.device_page.title.text(), d.device_page.title.text()
        fits(w, "device page")
        await shot(w, "device.png")
        # edit a simulated device (operator): role picker + notes, stored by the agent
        page = d.device_page
        page.notes_edit.setText("rack 2 — PSU swapped")
        for button in (page.role_edit.buttons["decoder"], page.save):
            page.form_area.ensureWidgetVisible(button)  # the form scrolls on a 768 px screen
            await asyncio.sleep(0.1)
            qtbot.mouseClick(button, LEFT)  # type: ignore[no-untyped-call]
        await until(lambda: page.edit_note.text().startswith(("✓", "✕")), 10, "the save",
                    lambda: f"note={page.edit_note.text()!r} save={page.save.isEnabled()}")
        assert page.edit_note.text() == "✓ saved on the agent", page.edit_note.text()
        got = api.get("/devices/enc-02").json()
        assert (got["role"], got["notes"], got["overrides"]) == (
            "decoder", "rack 2 — PSU swapped", ["role", "notes"])
        await until(lambda: "Set by hand: role, notes" in page.details.text(), 10,
                    "the page to show the overrides", page.details.text)
        r = api.patch("/devices/enc-02", json={"role": None})  # back, for what follows
        assert r.status_code == 200 and r.json()["role"] == "encoder", r.text

        # alarms: acknowledge the one for enc-02
        d.show_tab("alarms")
        await until(lambda: any(a.device == "enc-02" and a.active
                                for a in d.alarms.model.alarms), 30, "an alarm for enc-02",
                    d.alarms.note.text)
        row = next(i for i, a in enumerate(d.alarms.model.alarms)
                   if a.device == "enc-02" and a.active)
        d.alarms.view.selectRow(row)
        qtbot.mouseClick(d.alarms.ack_button, LEFT)  # type: ignore[no-untyped-call]
        await until(lambda: any(a.device == "enc-02" and a.acked_by == "operator"
                                for a in d.alarms.model.alarms), 10, "the ack",
                    lambda: d.banner.text)
        qtbot.mouseClick(d.alarms.filter_buttons["critical"], LEFT)  # type: ignore[no-untyped-call]
        assert all(a.severity.value == "critical" for a in d.alarms.model.alarms)
        fits(w, "alarms")
        await shot(w, "alarms.png")
        qtbot.mouseClick(d.alarms.filter_buttons[""], LEFT)  # type: ignore[no-untyped-call]

        # jobs: the catalog form, a running job with live output, cancel
        d.show_tab("jobs")
        await until(lambda: d.jobs.api is not None and d.jobs.api.available is not None, 10,
                    "the jobs catalog")
        if d.jobs.unavailable:
            fits(w, "jobs")
            await shot(w, "jobs.png")
        else:
            names = [p.name for p in d.jobs.playbooks]
            d.jobs.catalog.setCurrentRow(names.index("connectivity-check"))
            form = d.jobs.form
            assert form is not None
            count = form.inputs.get("count")
            if isinstance(count, QSpinBox):  # more probes per device: a job that runs a while
                count.setValue(min(count.maximum(), 10))
            qtbot.mouseClick(d.jobs.run, LEFT)  # type: ignore[no-untyped-call]
            await until(lambda: d.jobs.job is not None, 15, "the job to start",
                        d.jobs.status.text)
            await until(lambda: d.jobs.output.toPlainText().count("\n") >= 5, 60,
                        "live job output",
                        lambda: d.jobs.status.text() + log())
            fits(w, "jobs")
            running = d.jobs.job is not None and not d.jobs.job.done
            await shot(w, "jobs-running.png")
            print("jobs-running.png shows a job that is", "running" if running else "done")
            job = d.jobs.job
            assert job is not None
            cancelled = not job.done
            if cancelled:
                qtbot.mouseClick(d.jobs.cancel, LEFT)  # type: ignore[no-untyped-call]
            took = await until(lambda: d.jobs.job is not None and d.jobs.job.done, 90,
                               "job end",
                               lambda: f"{d.jobs.status.text()} follower={d.jobs._poll!r}")
            print(f"job ({'cancel clicked' if cancelled else 'ended first'}, {took:.1f} s):",
                  d.jobs.status.text())
            if cancelled and d.jobs.job is not None:
                assert d.jobs.job.status in ("canceled", "successful"), d.jobs.status.text()
            await until(lambda: d.jobs.history.count() >= 1, 10, "the job history")

        # sunlight, one tap from the dashboard too; back to the fleet
        qtbot.mouseClick(d.sunlight, LEFT)  # type: ignore[no-untyped-call]
        assert w.theme is theme.SUNLIGHT and w.overview.sunlight.isChecked()
        qtbot.mouseClick(d.sunlight, LEFT)  # type: ignore[no-untyped-call]
        qtbot.mouseClick(d.back, LEFT)  # type: ignore[no-untyped-call]
        assert w.stack.currentWidget() is w.overview

        # --- agent restart: stale/unreachable, then back with live data ------------------
        agent.stop()
        await until(lambda: m.error and north_tile().tile is not None and
                    north_tile().tile.level >= Level.unreachable, 15, "UNREACHABLE")
        assert "UNREACHABLE" in north_tile().text()
        await shot(w, "overview-unreachable.png")
        await until(lambda: d.board.stale, 10, "dashboard stale")
        await asyncio.to_thread(agent.start)
        await until(lambda: not m.error and m.session is not None
                    and m.session.stream.status.state is LinkState.up, 40,
                    "reconnect after the restart", log)
        n = m.session.samples_seen
        await until(lambda: m.session is not None and m.session.samples_seen > n + 10, 20,
                    "live samples after the restart")
        assert not d.board.stale

        # --- a changed certificate is refused -------------------------------------------
        agent.stop()
        _cert, _key, fp = make_cert(agent.tmp, "agent")  # same paths, new key
        assert fp != agent.fingerprint
        await asyncio.to_thread(agent.start)
        await until(lambda: "CHANGED" in m.error, 30, "the changed-certificate refusal",
                    lambda: m.error)
        assert "UNREACHABLE" in north_tile().text()

    run_loop(qapp, w, scenario)
