"""The wizard's last pages: review (what will happen), run (live progress per role and task,
cancel), done (agent URL, certificate fingerprint, admin login, or what failed and what to
do). Widgets only; the controller feeds them :class:`DeployEvent`s on the GUI thread."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from desktop.provisioning.preflight import Check
from desktop.provisioning.settings import FlypackSettings, Target
from desktop.ui.qt import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    Qt,
    QWidget,
    Signal,
)
from desktop.ui.theme import Icons
from desktop.ui.touch import kinetic
from desktop.ui.wizard_pages import Page
from server_agent.contract import DeviceState

if TYPE_CHECKING:
    from desktop.provisioning.deploy import DeployEvent, DeployResult

__all__ = ["DonePage", "ReviewPage", "RunPage", "review_html"]

LOG_LINES = 2000


def review_html(target: Target, s: FlypackSettings, bundle: str, warnings: list[Check]) -> str:
    e = html.escape
    login = "key file" if target.key_file else "password"
    nets = "".join(
        f"<li>{e(m.interface)}{'' if m.vlan is None else f' VLAN {m.vlan}'}: "
        f"{e(m.address)} — {'media NIC' if m.media else 'control only'}</li>"
        for m in s.monitored) or "<li>none</li>"
    warn = "".join(f"<li>! {e(c.title)}: {e(c.detail)}</li>" for c in warnings)
    return (
        f"<p><b>Target</b>: {e(target.user)}@{e(target.host)}:{target.port} ({login}), host key "
        f"{e(target.host_key_sha256 or '?')}</p>"
        f"<p><b>Flypack</b> {e(s.flypack_id)}: management {e(s.mgmt_interface)} "
        f"{e(s.mgmt_address)}" + (f" via {e(s.mgmt_gateway)}" if s.mgmt_gateway else "") +
        (f", DNS {e(', '.join(s.dns))}" if s.dns else "") +
        (f", NTP {e(', '.join(s.ntp_servers))}" if s.ntp_servers else "") + "</p>"
        f"<p><b>Monitored networks</b></p><ul>{nets}</ul>"
        f"<p><b>Agent</b>: https on port {s.agent_port}, admin user {e(s.admin_user)} (its "
        "password is generated and kept in this laptop's keyring)</p>"
        f"<p><b>Packages</b>: {e(bundle)}</p>"
        + (f"<p><b>Warnings from the checks</b></p><ul>{warn}</ul>" if warn else "")
        + "<p>The deploy installs packages, the monitoring stack and the agent, sets up the "
        "networks (with an automatic rollback if the server becomes unreachable) and the "
        "firewall. It can be canceled; running it again continues where it stopped.</p>")


class ReviewPage(Page):
    title = "Review"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Check what will be done, then tap ▶ Provision.", parent)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.summary)
        self.finish()

    def show_review(self, text: str) -> None:
        self.summary.setText(text)


_STATE = {"running": ("▶", DeviceState.up, True), "done": ("✓", DeviceState.up, False),
          "failed": ("✕", DeviceState.down, False)}


class RunPage(Page):
    title = "Provisioning"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("The deploy runs from this laptop over SSH. Keep the laptop awake "
                         "and connected.", parent)
        self.status = self.add_heading("Starting…")
        self.task = QLabel("")
        self.task.setWordWrap(True)
        self.task.setAccessibleName("Current task")
        self.body.addWidget(self.task)
        row = QHBoxLayout()
        self.roles = kinetic(QListWidget())
        self.roles.setAccessibleName("Roles")
        self.roles.setMaximumWidth(360)
        self.log = kinetic(QPlainTextEdit())
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setAccessibleName("Deploy log")
        row.addWidget(self.roles, 1)
        row.addWidget(self.log, 2)
        self.body.addLayout(row, 1)
        self.role_items: dict[str, QListWidgetItem] = {}
        self.current_role: str | None = None
        self.counts = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0}

    def reset(self) -> None:
        self.roles.clear()
        self.role_items = {}
        self.current_role = None
        self.counts = dict.fromkeys(self.counts, 0)
        self.log.clear()
        self.task.setText("")
        self.status.setText("▶ Connecting to the target…")

    def _mark(self, role: str, state: str) -> None:
        item = self.role_items.get(role)
        if item is None:
            item = self.role_items[role] = QListWidgetItem()
            self.roles.addItem(item)
        glyph, icon, busy = _STATE[state]
        item.setText(f"{glyph} {role} — {state}")
        item.setIcon(Icons.state(icon, stale=busy))  # running: the "…" circle

    def add_event(self, ev: DeployEvent) -> None:
        if ev.kind == "role" and ev.message:
            role = ev.message.removeprefix("role ").strip()
            if self.current_role and self.current_role != role:
                self._mark(self.current_role, "done")
            self.current_role = role
            self._mark(role, "running")
        elif ev.kind == "task":
            where = f"{ev.role}: " if ev.role else ""
            self.task.setText(f"Task: {where}{ev.task or ev.message}")
        elif ev.kind in self.counts:
            self.counts[ev.kind] += 1
            if ev.kind == "failed" and ev.role:
                self._mark(ev.role, "failed")
        elif ev.kind == "unreachable" and ev.role:
            self._mark(ev.role, "failed")
        if ev.kind in ("role", "play", "failed", "unreachable", "log", "changed"):
            self.log.appendPlainText(ev.message)
        c = self.counts
        self.status.setText(f"▶ Running — {len(self.role_items)} role(s) so far · "
                            f"{c['changed']} changed · {c['ok']} ok · {c['failed']} failed")

    def finished(self, result: DeployResult) -> None:
        if self.current_role and result.status == "successful":
            self._mark(self.current_role, "done")
        self.status.setText({"successful": "✓ Finished", "canceled": "■ Canceled"}.get(
            result.status, "✕ Failed"))


class DonePage(Page):
    title = "Done"
    rerun_requested = Signal()
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.headline = QLabel("")
        self.headline.setObjectName("title")
        self.headline.setWordWrap(True)
        self.body.addWidget(self.headline)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.details)
        self.fingerprint = QLabel("")
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setAccessibleName("Agent certificate fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.fingerprint)
        prow = QHBoxLayout()
        prow.setContentsMargins(0, 0, 0, 0)
        prow.addWidget(QLabel("Admin password"))
        self.password = QLineEdit()
        self.password.setReadOnly(True)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Admin password")
        self.show_password = QPushButton("Show password")
        self.show_password.setCheckable(True)
        self.show_password.toggled.connect(lambda on: self.password.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        prow.addWidget(self.password, 1)
        prow.addWidget(self.show_password)
        self.password_row = QWidget()
        self.password_row.setLayout(prow)
        self.body.addWidget(self.password_row)
        self.credentials = QLabel("")
        self.credentials.setWordWrap(True)
        self.body.addWidget(self.credentials)
        self.fleet_status = self.add_heading(name="Fleet status")
        row = QHBoxLayout()
        self.open = QPushButton("Open the flypack")
        self.open.setObjectName("primary")
        self.open.clicked.connect(self.open_requested)
        self.rerun = QPushButton("↻ Run the deploy again")
        self.rerun.clicked.connect(self.rerun_requested)
        row.addWidget(self.open)
        row.addWidget(self.rerun)
        row.addStretch(1)
        self.body.addLayout(row)
        self.finish()

    def show_result(self, r: DeployResult, flypack: str, stored: str) -> None:
        ok = r.status == "successful"
        self.open.setVisible(ok)
        self.rerun.setVisible(not ok)
        self.password_row.setVisible(ok and bool(r.admin_password))
        self.fingerprint.setVisible(ok and bool(r.fingerprint))
        self.fleet_status.setText("")
        self.credentials.setText("")
        if ok:
            self.headline.setText(f"✓ {flypack} is a flypack server now")
            who = (f"Admin user: {r.admin_user} — password {stored}" if r.admin_password else
                   f"Admin user: {r.admin_user} existed already; its password was not "
                   "changed")
            self.details.setText(f"{r.message}\nAgent: {r.agent_url}\n"
                                 "Certificate fingerprint (SHA-256), pinned in the fleet:")
            self.fingerprint.setText(r.fingerprint or "")
            self.password.setText(r.admin_password or "")
            self.credentials.setText(who)
        elif r.status == "canceled":
            self.headline.setText("■ Canceled")
            self.details.setText(f"{r.message}\nRun it again to continue: steps that "
                                 "finished are kept and not repeated.")
        else:
            self.headline.setText("✕ The deploy stopped")
            self.details.setText(r.message + ("\nFailed task: " + r.failed_task
                                              if r.failed_task else ""))

    def set_fleet_status(self, text: str) -> None:
        self.fleet_status.setText(text)
