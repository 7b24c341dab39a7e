"""The wizard's pages without a target: the Windows branch, settings problems under their
fields, host key states, live run progress from deploy events, touch fitness of each page."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.client import SecretStore
from desktop.provisioning.ansible_bin import unsupported_reason
from desktop.provisioning.deploy import DeployEvent, DeployResult
from desktop.provisioning.form import FormValues, NetworkRow
from desktop.provisioning.hostkeys import HostKeyStore
from desktop.provisioning.preflight import Check
from desktop.ui import theme
from desktop.ui.qt import QApplication, Qt
from desktop.ui.touch import touch_problems
from desktop.ui.wizard import (
    CHECKS,
    DONE,
    HOSTKEY,
    RUN,
    SETTINGS,
    TARGET,
    ProvisionWizard,
    WizardServices,
)


def wizard(qtbot: QtBot, tmp_path: Path, unsupported: str | None = None) -> ProvisionWizard:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply(app, theme.DARK)  # the app always runs themed: it sets the touch sizes
    services = WizardServices(HostKeyStore(tmp_path / "keys.json"), SecretStore(None),
                              tmp_path / "runs", unsupported=unsupported, bundle=None)
    w = ProvisionWizard(services)
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    return w


def fit(w: ProvisionWizard, page: str) -> None:
    w.grab()
    problems = touch_problems(w)
    assert not problems, f"{page}: " + "; ".join(problems)


def test_windows_says_wsl_and_blocks(qtbot: QtBot, tmp_path: Path) -> None:
    w = wizard(qtbot, tmp_path, unsupported_reason("win32"))
    assert not w.next.isEnabled() and "WSL" in w.banner.text
    w.target_page.host.setText("198.51.100.7")
    w.target_page.password.setText("x")
    w.go_next()
    assert w.page == TARGET  # nothing connects
    linux = wizard(qtbot, tmp_path, unsupported_reason("linux"))
    assert linux.next.isEnabled() and not linux.banner.isVisible()


def test_target_problems_stop_before_connecting(qtbot: QtBot, tmp_path: Path) -> None:
    w = wizard(qtbot, tmp_path)
    fit(w, "target")
    w.go_next()  # no host, no password
    assert w.page == TARGET and "not a host name" in w.banner.text
    assert "password or a private key" in w.banner.text
    w.target_page.user.setText("tech")
    assert w.target_page.become.isVisible()  # sudo password only for non-root users
    t = w.target_page.target()
    assert t.user == "tech" and t.key_file is None and t.password is None


def test_settings_problems_under_their_fields(qtbot: QtBot, tmp_path: Path) -> None:
    w = wizard(qtbot, tmp_path)
    w.show_page(SETTINGS)
    sp = w.settings_page
    sp.set_interfaces(["eth0", "eth1", "eth2"], {"eth0": "192.168.1.10/24"})
    assert sp.mgmt_interface.currentText() == "eth0"
    assert sp.mgmt_address.text() == "192.168.1.10/24"  # prefilled from the target
    sp.fill(FormValues("Flypack 1", "eth0", "192.168.1.10/24", "10.1.1.1", "", "", "admin",
                       8443, [NetworkRow("eth1", "10.0.0.5/16", 0, True),
                              NetworkRow("eth2", "10.0.200.9/24", 5, False)]))
    assert sp.check() is None
    assert "lower-case" in sp.errors["flypack_id"].text()
    assert "outside 192.168.1.0/24" in sp.errors["mgmt_gateway"].text()
    assert "overlaps" in sp.editors[1].error.text() and sp.editors[0].error.isHidden()
    assert sp.errors["mgmt_address"].isHidden()
    assert sp.problem_count == 3
    fit(w, "settings with errors")
    sp.flypack_id.setText("flypack-01")
    sp.mgmt_gateway.setText("192.168.1.1")
    sp.editors[1].address.setText("10.1.0.9/24")
    s = sp.check()
    assert s is not None and s.monitored[1].vlan == 5 and not s.monitored[1].media
    assert all(label.isHidden() for label in sp.errors.values())
    qtbot.mouseClick(sp.editors[0].remove, Qt.MouseButton.LeftButton)
    assert len(sp.editors) == 1 and sp.editors[0].address.text() == "10.1.0.9/24"


def test_host_key_states(qtbot: QtBot, tmp_path: Path) -> None:
    w = wizard(qtbot, tmp_path)
    kp = w.key_page
    w.show_page(HOSTKEY)
    kp.show_key("198.51.100.7:22", "ssh-ed25519", "SHA256:abc", "new")
    w.update_nav()
    assert not w.next.isEnabled() and kp.trust.isVisible()
    fit(w, "host key")
    kp.show_key("198.51.100.7:22", "ssh-ed25519", "SHA256:abc", "known")
    w.update_nav()
    assert w.next.isEnabled() and not kp.trust.isVisible()
    kp.show_key("198.51.100.7:22", "ssh-ed25519", "SHA256:new", "changed", "SHA256:old")
    w.update_nav()
    assert not w.next.isEnabled() and kp.forget.isVisible() and "DIFFERENT" in kp.intro.text()


def test_checks_gate_the_next_page(qtbot: QtBot, tmp_path: Path) -> None:
    w = wizard(qtbot, tmp_path)
    w.show_page(CHECKS)
    w.check_page.show_checks([Check("os", "Operating system", "fail", "Debian 11",
                                    "install Debian 12"),
                              Check("ram", "Memory", "warn", "1.5 GiB", "2 GiB recommended")])
    w.update_nav()
    assert not w.next.isEnabled() and "must be fixed" in w.check_page.summary.text()
    assert "→ install Debian 12" in w.check_page.lines[0].text()
    fit(w, "checks")
    w.check_page.show_checks([Check("ram", "Memory", "warn", "1.5 GiB", "2 GiB recommended")])
    w.update_nav()
    assert w.next.isEnabled() and "1 warning" in w.check_page.summary.text()


def test_run_progress_and_result(qtbot: QtBot, tmp_path: Path) -> None:
    w = wizard(qtbot, tmp_path)
    w.show_page(RUN)
    rp = w.run_page
    rp.reset()
    for role in ("bootstrap", "base"):
        rp.add_event(DeployEvent("role", None, None, None, f"role {role}"))
        rp.add_event(DeployEvent("task", None, role, "Install packages", "Install packages"))
        rp.add_event(DeployEvent("changed", "fp", role, "Install packages", "changed: x"))
    rp.add_event(DeployEvent("failed", "fp", "base", "Install packages", "failed: x: E: disk"))
    assert rp.role_items["bootstrap"].text() == "✓ bootstrap — done"
    assert rp.role_items["base"].text() == "✕ base — failed"
    assert "Task: base: Install packages" == rp.task.text()
    assert "2 changed" in rp.status.text() and "1 failed" in rp.status.text()
    assert "failed: x: E: disk" in rp.log.toPlainText()
    fit(w, "run")
    w.settings = None
    w.done_page.show_result(DeployResult("failed", 2, "Install packages", "disk full: free "
                                         "space and run again", None, None, None, None),
                            "flypack-01", "")
    w.show_page(DONE)
    assert w.done_page.rerun.isVisible() and not w.done_page.open.isVisible()
    fit(w, "done (failed)")
