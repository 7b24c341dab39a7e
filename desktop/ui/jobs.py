"""The Jobs tab: playbook catalog, a form per playbook, live output, cancel, history.

The panel gets a :class:`desktop.client.JobsApi` injected. Live ``job.*`` events from the
WebSocket arrive through :meth:`JobsPanel.on_live_event`; the events endpoint is polled too
(every second while a job runs), so output never stalls if a live event was missed. "Recent
jobs" reloads on any job queued or changing state (whoever started it), and every 30 s. An agent
without the jobs API (404) gets one clear sentence, not a broken tab.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from desktop.client import AgentError, FeatureUnavailable, Job, JobsApi, Playbook
from desktop.model import fmt
from desktop.model.targets import target_groups
from desktop.ui.errors import describe, run_op
from desktop.ui.jobs_form import SchemaForm, TargetPicker
from desktop.ui.qt import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.theme import GAP
from desktop.ui.touch import kinetic
from server_agent.contract import Device

log = logging.getLogger("flypack.desktop.jobs")

HISTORY_EVERY_S = 30.0
STATUS_MAX = 320  # characters of a reason shown above the output; all of it is in the output
_MARKS = {"successful": "✓", "failed": "✕", "error": "✕", "timeout": "✕", "interrupted": "✕",
          "canceled": "■", "running": "▶", "queued": "…", "pending": "…"}


def mark(status: str) -> str:
    """A job status in words with its sign ("✕ FAILED"): never by colour alone."""
    sign = _MARKS.get(status, "?")
    return f"{sign} {status.upper()}"


NO_API = ("This agent has no jobs API yet (GET /api/v1/playbooks answered 404). "
          "Update the flypack agent to run playbooks from here; monitoring works as before.")


class JobsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api: JobsApi | None = None
        self.playbooks: list[Playbook] = []
        self.job: Job | None = None
        self.form: SchemaForm | None = None
        self.targets: TargetPicker | None = None
        self.devices: list[Device] | None = None
        self._history_task: asyncio.Task[None] | None = None
        self._history_again = False
        self._seen = 0
        self._poll: asyncio.Task[None] | None = None
        self.stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.message = QLabel("Loading the playbook catalog…")
        self.message.setWordWrap(True)
        self.message.setObjectName("title")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.message)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setHandleWidth(GAP)
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(self._title("Playbooks"))
        self.catalog = kinetic(QListWidget())
        self.catalog.setAccessibleName("Playbooks")
        self.catalog.currentRowChanged.connect(self._pick)
        lcol.addWidget(self.catalog, 2)
        lcol.addWidget(self._title("Recent jobs"))
        # live job.* events refresh "Recent jobs" at once; this slow poll covers events
        # missed while the live link was down
        self.history_timer = QTimer(self)
        self.history_timer.setInterval(int(HISTORY_EVERY_S * 1000))
        self.history_timer.timeout.connect(
            lambda: self.refresh_history() if self.api is not None and self.api.available
            else None)
        self.history = kinetic(QListWidget())
        self.history.setAccessibleName("Recent jobs")
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        lcol.addWidget(self.history, 1)
        split.addWidget(left)

        mid = QWidget()
        mcol = QVBoxLayout(mid)
        mcol.setContentsMargins(0, 0, 0, 0)
        mcol.setSpacing(GAP)
        self.pb_title = self._title("")
        mcol.addWidget(self.pb_title)
        self.pb_desc = QLabel("")
        self.pb_desc.setWordWrap(True)
        self.pb_desc.setObjectName("muted")
        mcol.addWidget(self.pb_desc)
        self.form_area = kinetic(QScrollArea())
        self.form_area.setWidgetResizable(True)
        mcol.addWidget(self.form_area, 1)
        # the actions sit at the foot of the column, below nothing that changes: a new status
        # (in the output column) never moves them under the operator's finger
        row = QHBoxLayout()
        row.setSpacing(GAP)
        self.run = QPushButton("▶ Run playbook")
        self.run.setObjectName("primary")
        self.run.clicked.connect(self._run)
        self.cancel = QPushButton("■ Cancel job")
        self.cancel.setAccessibleName("Cancel the running job")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        row.addWidget(self.run)
        row.addWidget(self.cancel)
        mcol.addLayout(row)
        split.addWidget(mid)

        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.setSpacing(GAP)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Job status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        rcol.addWidget(self.status)
        self.output = kinetic(QPlainTextEdit())
        self.output.setReadOnly(True)
        self.output.setAccessibleName("Job output")
        self.output.setPlaceholderText("Live output of the job appears here.")
        rcol.addWidget(self.output, 1)
        split.addWidget(right)
        split.setSizes([320, 460, 560])
        self.stack.addWidget(split)

    def _say(self, text: str) -> None:
        """The status above the output: wrapped, never clipped (a long reason is cut here,
        with all of it in the tooltip and at the end of the output)."""
        short = text if len(text) <= STATUS_MAX else (
            text[:STATUS_MAX].rstrip() + "… (all of it in the output below)")
        if short != text and not self.output.toPlainText().endswith(text):
            self.output.appendPlainText(text)
        self.status.setText(short)
        self.status.setToolTip(text if short != text else "")
        self.status.setVisible(bool(text))

    @staticmethod
    def _title(text: str) -> QLabel:
        lab = QLabel(text)
        lab.setObjectName("sectionTitle")
        return lab

    # --- loading -------------------------------------------------------------------------

    def attach(self, api: JobsApi) -> None:
        self.api = api
        run_op(self._load(), self._show_error)
        self.history_timer.start()

    async def _load(self) -> None:
        assert self.api is not None
        try:
            self.playbooks = await self.api.playbooks()
        except FeatureUnavailable:
            self.message.setText(NO_API)
            self.stack.setCurrentIndex(0)
            return
        self.catalog.clear()
        for pb in self.playbooks:
            changes = " · changes devices" if pb.changes_devices else ""
            item = QListWidgetItem(f"{pb.title}\n{pb.role}{changes}")
            self.catalog.addItem(item)
        try:  # the target groups' sizes; without them the groups are offered all the same
            self.devices = await self.api.client.devices()
        except AgentError:
            self.devices = None
        self.stack.setCurrentIndex(1)
        if self.playbooks:
            self.catalog.setCurrentRow(0)
        await self._load_history()

    async def _load_history(self) -> None:
        assert self.api is not None
        jobs = await self.api.jobs()
        self.history.clear()
        for j in sorted(jobs, key=lambda j: -(j.created_at or 0))[:50]:
            # two short lines, never a sideways scroll; the reason is in the tooltip
            item = QListWidgetItem(f"{mark(j.status)} — {j.playbook}\n"
                                   f"job {j.id} · {fmt.clock(j.created_at)}"
                                   f"{' by ' + j.user if j.user else ''}")
            item.setToolTip(f"job {j.id}: {j.playbook} {j.status}"
                            + (f" — {j.reason}" if j.reason else ""))
            self.history.addItem(item)

    @property
    def unavailable(self) -> bool:
        return self.api is not None and self.api.available is False

    def _show_error(self, text: str) -> None:
        self._say(f"✕ {text}")
        if self.stack.currentIndex() == 0:
            self.message.setText(f"✕ Could not load the playbook catalog: {text}")

    # --- form and run --------------------------------------------------------------------

    def _pick(self, row: int) -> None:
        if not 0 <= row < len(self.playbooks):
            return
        pb = self.playbooks[row]
        self.pb_title.setText(pb.title)
        self.pb_desc.setText(pb.description)  # the targets are the chips of the form
        self.form = SchemaForm(pb.schema)
        self.targets = TargetPicker(target_groups(pb.targets, self.devices))
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(GAP)
        if pb.targets:
            col.addWidget(self.targets)
        col.addWidget(self.form)
        col.addStretch(1)
        self.form_area.setWidget(page)

    def _run(self) -> None:
        row = self.catalog.currentRow()
        if self.api is None or self.form is None or not 0 <= row < len(self.playbooks):
            return
        values = self.form.values()
        limit = self.targets.limit() if self.targets is not None else []
        if values is None or limit is None:
            self._say("✕ Fix the marked fields first; nothing was sent.")
            return
        self.run.setEnabled(False)
        self.output.clear()
        self._seen = 0
        self._say("starting…")
        run_op(self.api.start(self.playbooks[row].name, values, limit=limit), self._failed,
               on_success=self._started)

    def _failed(self, text: str) -> None:
        self.run.setEnabled(True)
        self._say(f"✕ {text}")

    def _started(self, job: Job) -> None:
        self.job = job
        self.cancel.setEnabled(True)
        self._set_status(job)
        self._poll = asyncio.get_event_loop().create_task(self._follow(job.id))

    async def _follow(self, job_id: str) -> None:
        assert self.api is not None
        while self.job is not None and self.job.id == job_id and not self.job.done:
            try:
                await self._fetch_events(job_id)
                self.job = await self.api.job(job_id)
                self._set_status(self.job)
            except AgentError as exc:
                self._say(f"! {describe(exc)} — retrying")
            await asyncio.sleep(1.0)
        await self._fetch_events(job_id)
        if self.job is not None and self.job.id == job_id:
            self.output.appendPlainText(f"■ job {job_id} ended: {self.job.status.upper()}"
                                        + (f" — {self.job.reason}" if self.job.reason else ""))
        self.run.setEnabled(True)
        self.cancel.setEnabled(False)
        await self._load_history()

    async def _fetch_events(self, job_id: str) -> None:
        assert self.api is not None
        for ev in await self.api.events(job_id, after=self._seen):
            if ev.seq and ev.seq <= self._seen:
                continue
            self._seen = max(self._seen, ev.seq)
            self.output.appendPlainText(ev.line())

    def _set_status(self, job: Job) -> None:
        text = f"Job {job.id}: {mark(job.status)}"
        if job.done and job.reason:
            text += f" — {job.reason}"
        if job.done and job.stats:
            totals: dict[str, int] = {}
            for s in job.stats.values():
                for k, v in (s.items() if isinstance(s, dict) else ()):
                    if isinstance(v, int):
                        totals[k] = totals.get(k, 0) + v
            text += f" — {len(job.stats)} hosts: " + ", ".join(
                f"{k} {v}" for k, v in sorted(totals.items()) if v or k in ("failures",
                                                                           "unreachable"))
        self._say(text)

    def _cancel(self) -> None:
        if self.api is None or self.job is None:
            return
        self.cancel.setEnabled(False)
        self._say(f"Job {self.job.id}: cancelling…")
        run_op(self.api.cancel(self.job.id), self._failed)

    def on_live_event(self, kind: str, data: dict[str, Any]) -> None:
        """``job.*`` from the WebSocket: this desktop's job shows its new status at once (its
        follower fetches the events); a job queued or changing state anywhere (another
        desktop, the API) refreshes "Recent jobs"."""
        job = data.get("job", data.get("job_id"))
        if self.job is not None and str(job) == self.job.id:
            if "status" in data:
                self._say(f"Job {self.job.id}: {mark(str(data['status']))}")
        if kind in ("job.queued", "job.status") and self.api is not None:
            self.refresh_history()

    def refresh_history(self) -> None:
        """Reload "Recent jobs" soon; a burst of events makes one reload (plus one after it
        for what arrived meanwhile), never one per event."""
        if self._history_task is not None and not self._history_task.done():
            self._history_again = True
            return
        self._history_task = asyncio.get_event_loop().create_task(self._history_loop())

    async def _history_loop(self) -> None:
        while True:
            self._history_again = False
            try:
                await self._load_history()
            except AgentError as exc:
                log.info("recent jobs not refreshed: %s", describe(exc))
            if not self._history_again:
                return

    async def stop(self) -> None:
        self.history_timer.stop()
        if self._history_task is not None:
            self._history_task.cancel()
            await asyncio.wait([self._history_task], timeout=5)
            self._history_task = None
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.wait([self._poll], timeout=5)
            self._poll = None
