"""The Jobs tab: playbook catalog, a form per playbook, live output, cancel, history.

The panel gets a :class:`desktop.client.JobsApi` injected. Live ``job.*`` events from the
WebSocket arrive through :meth:`JobsPanel.on_live_event`; the events endpoint is polled too
(every second while a job runs), so output never stalls if a live event was missed. An agent
without the jobs API (404) gets one clear sentence, not a broken tab.
"""

from __future__ import annotations

import asyncio
from typing import Any

from desktop.client import AgentError, FeatureUnavailable, Job, JobsApi, Playbook
from desktop.model import fmt
from desktop.ui.errors import describe, run_op
from desktop.ui.jobs_form import SchemaForm
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
    QVBoxLayout,
    QWidget,
)
from desktop.ui.theme import GAP
from desktop.ui.touch import kinetic

NO_API = ("This agent has no jobs API yet (GET /api/v1/playbooks answered 404). "
          "Update the flypack agent to run playbooks from here; monitoring works as before.")


class JobsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api: JobsApi | None = None
        self.playbooks: list[Playbook] = []
        self.job: Job | None = None
        self.form: SchemaForm | None = None
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
        self.history = kinetic(QListWidget())
        self.history.setAccessibleName("Recent jobs")
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
        row = QHBoxLayout()
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
        self.status = QLabel("")
        self.status.setWordWrap(True)
        mcol.addWidget(self.status)
        split.addWidget(mid)

        self.output = kinetic(QPlainTextEdit())
        self.output.setReadOnly(True)
        self.output.setAccessibleName("Job output")
        self.output.setPlaceholderText("Live output of the job appears here.")
        split.addWidget(self.output)
        split.setSizes([320, 460, 560])
        self.stack.addWidget(split)

    @staticmethod
    def _title(text: str) -> QLabel:
        lab = QLabel(text)
        lab.setObjectName("sectionTitle")
        return lab

    # --- loading -------------------------------------------------------------------------

    def attach(self, api: JobsApi) -> None:
        self.api = api
        run_op(self._load(), self._show_error)

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
        self.stack.setCurrentIndex(1)
        if self.playbooks:
            self.catalog.setCurrentRow(0)
        await self._load_history()

    async def _load_history(self) -> None:
        assert self.api is not None
        jobs = await self.api.jobs()
        self.history.clear()
        for j in sorted(jobs, key=lambda j: -(j.created_at or 0))[:50]:
            self.history.addItem(f"{j.status.upper()} — {j.playbook} — {fmt.clock(j.created_at)}"
                                 f"{' by ' + j.user if j.user else ''}")

    @property
    def unavailable(self) -> bool:
        return self.api is not None and self.api.available is False

    def _show_error(self, text: str) -> None:
        self.status.setText(f"✕ {text}")
        if self.stack.currentIndex() == 0:
            self.message.setText(f"✕ Could not load the playbook catalog: {text}")

    # --- form and run --------------------------------------------------------------------

    def _pick(self, row: int) -> None:
        if not 0 <= row < len(self.playbooks):
            return
        pb = self.playbooks[row]
        self.pb_title.setText(pb.title)
        targets = f" Targets: {', '.join(pb.targets)}." if pb.targets else ""
        self.pb_desc.setText(pb.description + targets)
        self.form = SchemaForm(pb.schema)
        self.form_area.setWidget(self.form)

    def _run(self) -> None:
        row = self.catalog.currentRow()
        if self.api is None or self.form is None or not 0 <= row < len(self.playbooks):
            return
        values = self.form.values()
        if values is None:
            self.status.setText("✕ Fix the marked fields first; nothing was sent.")
            return
        self.run.setEnabled(False)
        self.output.clear()
        self._seen = 0
        self.status.setText("starting…")
        run_op(self.api.start(self.playbooks[row].name, values), self._failed,
               on_success=self._started)

    def _failed(self, text: str) -> None:
        self.run.setEnabled(True)
        self.status.setText(f"✕ {text}")

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
                self.status.setText(f"! {describe(exc)} — retrying")
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
        text = f"Job {job.id}: {job.status.upper()}"
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
        self.status.setText(text)

    def _cancel(self) -> None:
        if self.api is None or self.job is None:
            return
        self.cancel.setEnabled(False)
        self.status.setText(f"Job {self.job.id}: cancelling…")
        run_op(self.api.cancel(self.job.id), self._failed)

    def on_live_event(self, kind: str, data: dict[str, Any]) -> None:
        """``job.*`` from the WebSocket: wake the follower at once (it fetches the events)."""
        job = data.get("job", data.get("job_id"))
        if self.job is not None and str(job) == self.job.id:
            if "status" in data:
                self.status.setText(f"Job {self.job.id}: {str(data['status']).upper()}")

    async def stop(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.wait([self._poll], timeout=5)
            self._poll = None
