"""The wizard against a real fresh Bookworm VM under qemu (tests/provision/vm.py fixtures).

1. The Qt wizard, walked offscreen in the fleet window: target (root + password), host key
   (the VM's, confirmed), preflight over paramiko, the VM's settings, review, and the deploy
   through the real DeployDriver/ansible-runner with live progress, to the done page.
2. The bundled desktop (`make bundle`): `flypack-desktop provision …` runs the same backend
   from the frozen bundle — its own paramiko, ansible-runner, flypack-ansible-playbook and
   deploy/ content — as a first deploy of a fresh VM of its own (the network switch, the
   package installs and the first admin only happen in a first deploy).

The wizard shares the session's VM with test_deploy_vm.py: whichever runs after the first
deploy is a re-run on a provisioned server, which must succeed without breaking anything (the
roles are idempotent). The agent listens on the VM's management address inside the lab
namespace, which the test process must not reach (lab rules): the wizard's "add to the
fleet" step is unhooked here and the agent's certificate is checked from the lab side
instead (the fleet step itself is walked in tests/e2e/test_wizard_walk.py against a real TLS
agent on loopback).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from desktop.client import FleetFile, SecretStore
from desktop.provisioning.form import FormValues, NetworkRow
from desktop.ui import theme
from desktop.ui.fleet import FleetWindow
from desktop.ui.qt import QApplication, Qt
from desktop.ui.wizard import CHECKS, DONE, HOSTKEY, REVIEW, RUN, SETTINGS, password_key
from tests.bundle_support import fresh_bundle
from tests.e2e.fleet_support import until
from tests.e2e.test_wizard_walk import shot
from tests.provision.test_deploy_vm import TLS_PROBE
from tests.provision.vm import MGMT_GUEST, VM, vm_settings

pytestmark = [pytest.mark.slow, pytest.mark.real, pytest.mark.timeout(3600)]
LEFT = Qt.MouseButton.LeftButton
DEPLOY_LIMIT_S = 3000


def form_of_vm() -> FormValues:
    s = vm_settings()
    return FormValues(s.flypack_id, s.mgmt_interface, s.mgmt_address, s.mgmt_gateway or "",
                      " ".join(s.dns), " ".join(s.ntp_servers), s.admin_user, s.agent_port,
                      [NetworkRow(m.interface, m.address, m.vlan or 0, m.media)
                       for m in s.monitored])


def test_wizard_provisions_the_vm(qtbot: QtBot, qapp: QApplication, fresh_vm: VM,
                                  offline_bundle: Path, tmp_path: Path) -> None:
    vm = fresh_vm
    rc, _ = vm.ssh("test -e /etc/flypack")
    already = rc == 0
    theme.apply(qapp, theme.DARK)
    w = FleetWindow(FleetFile.load(tmp_path / "cfg" / "fleet.json"), SecretStore(None))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    wiz = w.wizard
    wiz.services.workdir = tmp_path / "runs"
    events: list[str] = []

    async def scenario() -> None:
        assert wiz.launch_button is not None
        qtbot.mouseClick(wiz.launch_button, LEFT)
        tp = wiz.target_page
        tp.host.setText(vm.host)
        tp.port.setValue(vm.port)
        tp.user.setText("root")
        tp.password.setText(vm.password)
        tp.bundle.setText(str(offline_bundle))
        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.page == HOSTKEY, 60, "the VM's host key")
        assert vm.host_key_sha256() in wiz.key_page.fingerprint.text()
        if not wiz.key_page.confirmed:
            qtbot.mouseClick(wiz.key_page.trust, LEFT)
        qtbot.mouseClick(wiz.next, LEFT)
        await until(lambda: wiz.check_page.checks, 120, "the preflight checks")
        checks = {c.key: c for c in wiz.check_page.checks}
        assert wiz.page == CHECKS and wiz.check_page.passed, wiz.check_page.checks
        assert checks["os"].status == "ok" and checks["sudo"].status == "ok"
        assert checks["existing"].status == ("warn" if already else "ok")
        assert "offline bundle" in checks["packages"].detail
        if not already:
            assert checks["python"].detail.startswith("not installed")
        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == SETTINGS
        assert {"eth0", "eth1", "eth2"} <= {wiz.settings_page.mgmt_interface.itemText(i)
                                            for i in range(wiz.settings_page.mgmt_interface
                                                           .count())}
        wiz.settings_page.fill(form_of_vm())
        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == REVIEW, wiz.banner.text
        # adding to the fleet connects to the agent's management address: not from here
        wiz.provisioned.disconnect()
        qtbot.mouseClick(wiz.next, LEFT)
        assert wiz.page == RUN
        await until(lambda: len(wiz.run_page.role_items) >= 4 or wiz.page == DONE,
                    DEPLOY_LIMIT_S, "the deploy to reach its fourth role")
        if wiz.page == RUN:  # the live run page of a real deploy (docs/wizard.md)
            await shot(w, "vm-run")
        await until(lambda: wiz.page == DONE, DEPLOY_LIMIT_S, "the deploy to finish")
        await shot(w, "vm-done")
        events.append(wiz.run_page.log.toPlainText()[-3000:])
        r = wiz.result
        assert r is not None and r.status == "successful", r
        assert wiz.done_page.fingerprint.text() == r.fingerprint and r.fingerprint
        roles = list(wiz.run_page.role_items)
        assert {"bootstrap", "base", "network", "agent"} <= set(roles), roles
        assert all(i.text().startswith("✓") for i in wiz.run_page.role_items.values())
        if r.admin_password:  # the first deploy: the admin's password is in the store
            assert wiz.stored_password(r.agent_url or "", "admin") == r.admin_password
            assert w.secrets.get(password_key(r.agent_url or "", "admin")) == r.admin_password
        # the agent listens on the management network inside the lab namespace: the laptop's
        # side of that network is the lab, so its certificate is checked from there (lab
        # rules: nothing from this namespace goes to 198.51.100.0/24)
        probe = vm.lab_run("python3", "-c", TLS_PROBE, MGMT_GUEST.split("/")[0], "8443")
        seen = json.loads(probe.stdout)
        assert seen["status"] == "200" and seen["version"] == "TLSv1.3", seen
        assert (r.fingerprint or "").replace(":", "").lower() == seen["sha256"]

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(scenario())
    finally:
        wiz.cancel.set()
        loop.run_until_complete(w.shutdown())
        loop.close()
        asyncio.set_event_loop(None)
    rc, out = vm.ssh("systemctl is-active flypack-agent")
    assert out.strip() == "active", out


def test_bundled_desktop_provisions_a_fresh_vm(own_fresh_vm: VM, offline_bundle: Path,
                                               tmp_path: Path) -> None:
    BUNDLE = fresh_bundle()
    assert (BUNDLE.parent / "flypack-ansible-playbook").exists()
    vm = own_fresh_vm
    rc, _ = vm.ssh("command -v python3")
    assert rc != 0, "the image must come without python3 (the bootstrap role brings it)"
    settings = tmp_path / "vm.json"
    settings.write_text(json.dumps(asdict(vm_settings())))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH="/usr/bin:/bin", VM_PASSWORD=vm.password, HOME=str(tmp_path))
    r = subprocess.run([str(BUNDLE), "provision", "--host", vm.host, "--port", str(vm.port),
                        "--user", "root", "--password-env", "VM_PASSWORD",
                        "--host-key", vm.host_key_sha256(), "--settings", str(settings),
                        "--bundle", str(offline_bundle), "--workdir", str(tmp_path / "runs")],
                       env=env, capture_output=True, text=True, timeout=DEPLOY_LIMIT_S,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-3000:]
    result = json.loads(next(line for line in r.stdout.splitlines()
                             if line.startswith("result "))[len("result "):])
    assert result["status"] == "successful" and result["fingerprint"], result
    assert "role bootstrap" in r.stdout and "check ok   Operating system" in r.stdout
    assert "admin password for admin: " in r.stdout, "a first deploy creates the admin"
    _rc, out = vm.ssh("systemctl is-active flypack-agent systemd-networkd")
    assert out.split() == ["active", "active"], out
    # the agent answers on the management address over TLS 1.3 with the reported certificate
    # (checked from the lab side: nothing from this namespace goes to the lab's networks)
    probe = vm.lab_run("python3", "-c", TLS_PROBE, MGMT_GUEST.split("/")[0], "8443")
    seen = json.loads(probe.stdout)
    assert seen["status"] == "200" and seen["version"] == "TLSv1.3", seen
    assert result["fingerprint"].replace(":", "").lower() == seen["sha256"]
