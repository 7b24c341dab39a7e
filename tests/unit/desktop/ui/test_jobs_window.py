"""The Jobs tab at 1366x768 (issue 14, finding 5): target groups in the form (the job body's
``limit``), Run/Cancel that stay put while the status changes, a failure reason that is not
clipped, and "Recent jobs" that follows jobs started elsewhere (live ``job.*`` events).

The agent's jobs API is faked at the edge (an object with the JobsApi coroutines); the panel,
its form and the qasync loop are real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import qasync
from pytestqt.qtbot import QtBot

from desktop.client import Job, Playbook
from desktop.model.targets import TargetGroup, job_limit, target_groups
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.jobs import JobsPanel
from desktop.ui.qt import QApplication, QLabel, QPoint, QWidget
from server_agent.contract import Device, DeviceRole

TARGETS = ["encoders", "decoders", "routers", "switches", "endpoints", "other", "servers"]
REASON = ("ansible-playbook exited with 2: can't open file '/root/flypack/.venv/bin/"
          "ansible-playbook': Permission denied — the job user cannot read the clone; move "
          "it out of a 0700 home or run the agent's set-up again, then retry the job")


class FakeClient:
    def __init__(self, devices: list[Device]) -> None:
        self._devices = devices

    async def devices(self) -> list[Device]:
        return self._devices


class FakeJobsApi:
    """The agent's side of the jobs API, in memory."""

    def __init__(self) -> None:
        self.available: bool | None = True
        self.client = FakeClient(
            [Device(id=f"enc-{i}", name=f"enc-{i}", role=DeviceRole.encoder,
                    address=f"127.0.0.{i}") for i in range(1, 4)]
            + [Device(id="dec-1", name="dec-1", role=DeviceRole.decoder, address="127.0.1.1")])
        self.list: list[Job] = [Job("1", "connectivity-check", "successful", "operator", 100.0)]
        self.started: list[tuple[str, dict[str, Any], list[str]]] = []
        self.jobs_calls = 0

    async def playbooks(self) -> list[Playbook]:
        return [Playbook("connectivity-check", "Connectivity check", "Reachability.",
                         schema={"properties": {"count": {"type": "integer", "default": 3}}},
                         targets=TARGETS)]

    async def jobs(self) -> list[Job]:
        self.jobs_calls += 1
        return list(self.list)

    async def job(self, job_id: str) -> Job:
        return next(j for j in self.list if j.id == job_id)

    async def events(self, job_id: str, after: int = 0) -> list[Any]:
        return []

    async def start(self, playbook: str, variables: dict[str, Any], limit: Any = (),
                    idempotency_key: str | None = None) -> Job:
        self.started.append((playbook, dict(variables), list(limit)))
        job = Job(str(len(self.list) + 1), playbook, "running", "operator", time.time())
        self.list.append(job)
        return job

    async def cancel(self, job_id: str) -> None:
        return None


def run(qapp: QApplication, scenario: Callable[[], Coroutine[Any, Any, None]],
        panel: JobsPanel) -> None:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(panel.stop())
        loop.close()
        asyncio.set_event_loop(None)


async def until(cond: Callable[[], object], what: str, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def history(panel: JobsPanel) -> list[str]:
    return [panel.history.item(i).text() for i in range(panel.history.count())]


def unclipped(lab: QLabel) -> bool:
    """The label shows all its lines: as tall as its wrapped text needs, inside its window."""
    need = lab.heightForWidth(lab.width()) if lab.wordWrap() else lab.sizeHint().height()
    top = lab.mapTo(lab.window(), QPoint(0, 0)).y()
    return lab.isVisible() and lab.height() >= need and top + need <= lab.window().height()


def dashboard(qtbot: QtBot, qapp: QApplication) -> Dashboard:
    theme.apply(qapp, theme.DARK)
    d = Dashboard(fleet=True)
    qtbot.addWidget(d)
    d.resize(1366, 740)  # the main window at 1366x768 less its status bar
    d.show()
    d.show_tab("jobs")
    return d


def test_job_limit_from_the_chosen_groups() -> None:
    groups = [TargetGroup("encoders", 3), TargetGroup("routers", 0), TargetGroup("servers", None)]
    assert job_limit(groups, ["encoders", "servers"]) == ([], "")  # all usable: the targets
    assert job_limit(groups, ["encoders"]) == (["encoders"], "")
    assert job_limit(groups, ["routers"])[1] == "pick at least one target group; nothing was sent"
    assert target_groups(["encoders", "agent"], None) == [TargetGroup("encoders", None),
                                                          TargetGroup("agent", None)]


def test_job_form_offers_target_groups_and_sends_the_limit(qtbot: QtBot,
                                                           qapp: QApplication) -> None:
    d = dashboard(qtbot, qapp)
    panel, api = d.jobs, FakeJobsApi()

    async def scenario() -> None:
        panel.attach(api)  # type: ignore[arg-type]
        await until(lambda: panel.targets is not None and history(panel), "the catalog")
        assert panel.targets is not None
        chips = panel.targets.chips
        # the groups with devices, and those the desktop cannot count (extra inventory)
        assert list(chips) == ["encoders", "decoders", "servers"]
        assert chips["encoders"].text() == "✓ encoders · 3"  # checked: a mark, not colour only
        assert panel.targets.empty_note.text() == (
            "No devices in: routers, switches, endpoints, other.")
        assert all(b.height() >= theme.TOUCH for b in chips.values())
        chips["decoders"].click()
        chips["servers"].click()
        panel.run.click()
        await until(lambda: api.started, "the job to be sent")
        assert api.started[-1] == ("connectivity-check", {"count": 3}, ["encoders"])
        for b in chips.values():
            if b.isChecked():
                b.click()
        sent = len(api.started)
        panel._run()
        assert len(api.started) == sent
        assert panel.targets.error.text() == "✕ pick at least one target group; nothing was sent"

    run(qapp, scenario, panel)


def test_run_cancel_stay_put_and_the_reason_is_not_clipped(qtbot: QtBot,
                                                           qapp: QApplication) -> None:
    d = dashboard(qtbot, qapp)
    panel, api = d.jobs, FakeJobsApi()

    def where(w: QWidget) -> tuple[int, int, int, int]:
        p = w.mapTo(d, QPoint(0, 0))
        return p.x(), p.y(), w.width(), w.height()

    async def scenario() -> None:
        panel.attach(api)  # type: ignore[arg-type]
        await until(lambda: panel.form is not None, "the catalog")
        await asyncio.sleep(0.1)
        d.grab()
        before = where(panel.run), where(panel.cancel)
        stderr = " ".join([REASON] * 8)  # what ansible can print: many lines of it
        for text in ("starting…", "Job 2: RUNNING", f"Job 2: FAILED — {REASON}",
                     f"✕ {REASON} {REASON} {REASON}", f"Job 2: FAILED — {stderr}"):
            panel._say(text)
            await asyncio.sleep(0.05)
            d.grab()
            assert (where(panel.run), where(panel.cancel)) == before, text
            assert unclipped(panel.status), text
        assert panel.status.toolTip() == f"Job 2: FAILED — {stderr}"  # all of it a tap away
        assert panel.output.toPlainText().endswith(f"Job 2: FAILED — {stderr}")  # and here

    run(qapp, scenario, panel)


def test_recent_jobs_follow_jobs_started_elsewhere(qtbot: QtBot, qapp: QApplication) -> None:
    d = dashboard(qtbot, qapp)
    panel, api = d.jobs, FakeJobsApi()

    async def scenario() -> None:
        panel.attach(api)  # type: ignore[arg-type]
        await until(lambda: len(history(panel)) == 1, "the first history")
        # another desktop (or curl) starts a job; this desktop runs none of its own
        api.list.append(Job("2", "config-backup", "running", "admin", time.time()))
        panel.on_live_event("job.queued", {"job": 2, "playbook": "config-backup",
                                           "user": "admin"})
        await until(lambda: len(history(panel)) == 2, "the other job in Recent jobs")
        assert panel.history.horizontalScrollBar().maximum() == 0
        assert history(panel)[0].startswith("▶ RUNNING — config-backup\njob 2")
        api.list[-1] = Job("2", "config-backup", "failed", "admin", api.list[-1].created_at)
        panel.on_live_event("job.status", {"job": 2, "status": "failed"})
        await until(lambda: history(panel)[0].startswith("✕ FAILED"), "its end")
        calls = api.jobs_calls
        for _ in range(20):  # a burst of events: a reload or two, not twenty
            panel.on_live_event("job.status", {"job": 2, "status": "failed"})
        await until(lambda: panel._history_task is not None and panel._history_task.done(),
                    "the reloads to settle")
        assert api.jobs_calls - calls <= 2

    run(qapp, scenario, panel)
