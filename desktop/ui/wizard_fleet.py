"""The wizard inside the fleet window: a "Provision new flypack" button on the overview, and
a provisioned flypack added to the fleet — its certificate pinned by the fingerprint the
deploy reported over the pinned SSH channel, its admin logged in — then opened on request.

    self.wizard = attach_wizard(self)     # in FleetWindow.__init__ (one line)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.client import CertificateChanged, fetch_certificate, normalize_url
from desktop.provisioning.errors import ProvisionError
from desktop.provisioning.hostkeys import FILE_NAME, HostKeyStore
from desktop.ui.errors import run_op
from desktop.ui.qt import QApplication, QHBoxLayout, QPushButton
from desktop.ui.wizard import ProvisionWizard, WizardServices, password_key

if TYPE_CHECKING:
    from desktop.provisioning.deploy import DeployResult
    from desktop.ui.fleet import FleetWindow

__all__ = ["add_to_fleet", "attach_wizard", "default_services"]


def default_services(window: FleetWindow) -> WizardServices:
    """Host keys next to the fleet list (``ssh_host_keys.json``); deploy runs beside it."""
    folder = window.fleet.path.parent
    services = WizardServices(HostKeyStore(folder / FILE_NAME), window.secrets,
                              folder / "deploy-runs")
    try:
        services.hostkeys = HostKeyStore.load(folder / FILE_NAME)
    except ProvisionError as exc:  # never overwrite a file the technician may want to fix
        services.unsupported = str(exc)
    return services


def _bar_with(layout: Any, button: QPushButton) -> QHBoxLayout | None:
    if layout is None:
        return None
    if isinstance(layout, QHBoxLayout) and layout.indexOf(button) >= 0:
        return layout
    for i in range(layout.count()):
        item = layout.itemAt(i)
        found = _bar_with(item.layout() if item is not None else None, button)
        if found is not None:
            return found
    return None


def attach_wizard(window: FleetWindow, services: WizardServices | None = None
                  ) -> ProvisionWizard:
    wizard = ProvisionWizard(services or default_services(window))
    window.stack.addWidget(wizard)
    button = QPushButton("⚙ Provision new flypack")
    button.setAccessibleName("Provision a new flypack")
    bar = _bar_with(window.overview.layout(), window.overview.add)
    if bar is not None:
        bar.insertWidget(bar.indexOf(window.overview.add) + 1, button)
    wizard.launch_button = button

    def show() -> None:
        if not wizard.deploying and wizard.page in (0, 6):
            wizard.reset()
        window.stack.setCurrentWidget(wizard)

    def provisioned(result: object) -> None:
        from desktop.provisioning.deploy import DeployResult

        if isinstance(result, DeployResult):
            wizard.done_page.set_fleet_status("Adding it to the fleet…")
            run_op(add_to_fleet(window, wizard, result), wizard.done_page.set_fleet_status,
                   on_success=wizard.done_page.set_fleet_status)

    def open_flypack(url: str) -> None:
        url = normalize_url(url) if url else url
        if url in window.members:
            window.open_flypack(url)
        else:
            wizard.fail("the flypack is not in the fleet yet: see the message above; you "
                        "can add it with '+ Add flypack'")

    app = QApplication.instance()
    if isinstance(app, QApplication):  # quitting mid-deploy: stop at the next task
        app.aboutToQuit.connect(wizard.cancel_deploy)
    button.clicked.connect(show)
    wizard.close_requested.connect(window.show_overview)
    wizard.provisioned.connect(provisioned)
    wizard.open_requested.connect(open_flypack)
    return wizard


async def add_to_fleet(window: FleetWindow, wizard: ProvisionWizard, r: DeployResult) -> str:
    """Pin the agent's certificate (it must be the one the deploy reported), log in as the
    admin, keep the login like any other fleet member. Returns a status line."""
    if not r.agent_url or not r.fingerprint:
        raise ProvisionError("the deploy did not report the agent's URL and certificate "
                             "fingerprint",
                             "add the flypack with '+ Add flypack' and compare the fingerprint "
                             "with `flypack-agent cert show` on the server")
    url = normalize_url(r.agent_url)
    user = r.admin_user or "admin"
    password = r.admin_password or wizard.stored_password(r.agent_url, user)
    if not password:
        raise ProvisionError(f"the password of '{user}' was set by an earlier deploy and is "
                             "not on this laptop",
                             "add the flypack with '+ Add flypack' and log in with it")
    cert = await fetch_certificate(url)
    if cert.fingerprint != r.fingerprint:
        raise CertificateChanged(url, r.fingerprint, cert.fingerprint)
    window.pending_cert = cert
    try:
        m = await window._log_in(url, user, password, True)
    finally:
        window.pending_cert = None
    await window.poll_member(m)
    if r.admin_password is None:  # keep it under the flypack's normalized URL as well
        window.secrets.put(password_key(url, user), password, persist=True)
    return f"✓ Added to the fleet as {m.entry.name or url}, logged in as {user}"
