"""The provisioning parts of the PyInstaller bundle, without a VM: the frozen desktop's
headless `provision` (paramiko, preflight) against a real sshd on 127.0.0.1, stopped by a
failing check before anything changes; and the bundle's own `flypack-ansible-playbook`
running a playbook on the laptop (implicit localhost, as the deploy's controller-side tasks
do) with only /usr/bin:/bin on PATH. The full deploy from the bundle against a VM is
tests/provision/test_wizard_vm.py. Builds the bundle first when dist/ has none or an older one."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.bundle_support import fresh_bundle
from tests.e2e.test_wizard_sshd import server  # noqa: F401  (fixture)

# the bundle is built (when missing or stale) in the module's fixture, bounded by its own
# time-out; each test's 120 s start after it
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120, func_only=True)]
PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.command: {argv: [tar, --version]}
      changed_when: false
    - ansible.builtin.copy: {content: "from the bundle\\n", dest: "%s", mode: "0600"}
"""


@pytest.fixture(scope="module")
def bundle() -> Path:
    return fresh_bundle()


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "LC_", "LANG"))}
    env.update(PATH="/usr/bin:/bin", HOME=str(home))  # nothing from the venv
    return env


def test_bundled_provision_preflight(bundle: Path, server: tuple[int, Path, str],  # noqa: F811
                                     tmp_path: Path) -> None:
    port, key, printed = server
    settings = tmp_path / "fp.json"
    settings.write_text(json.dumps({"flypack_id": "flypack-b", "mgmt_interface": "eth1",
                                    "mgmt_address": "198.51.100.10/24"}))
    base = [str(bundle), "provision", "--host", "127.0.0.1", "--port", str(port), "--key",
            str(key), "--settings", str(settings), "--workdir", str(tmp_path / "runs")]
    r = subprocess.run(base, env=clean_env(tmp_path), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and printed in r.stdout, r.stdout + r.stderr[-2000:]
    r = subprocess.run([*base, "--host-key", printed], env=clean_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr[-2000:]
    assert "check ok   Operating system" in r.stdout or "check fail Operating system" in r.stdout
    assert "check fail Packages: offline bundle required" in r.stdout
    assert not (tmp_path / "runs").exists()  # stopped before the deploy


def test_bundled_ansible_playbook_runs(bundle: Path, tmp_path: Path) -> None:
    ansible = bundle.parent / "flypack-ansible-playbook"
    out = tmp_path / "out.txt"
    book = tmp_path / "p.yml"
    book.write_text(PLAYBOOK % out)
    r = subprocess.run([str(ansible), "--version"], env=clean_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "core 2.19" in r.stdout, r.stdout + r.stderr
    assert str(bundle.parent / "_internal" / "ansible") in r.stdout
    r = subprocess.run([str(ansible), str(book)], env=clean_env(tmp_path),
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "ok=2" in r.stdout and "changed=1" in r.stdout
    assert out.read_text() == "from the bundle\n"
    assert (bundle.parent / "_internal" / "deploy" / "site.yml").is_file()
    assert (bundle.parent / "_internal" / "ansible_runner" / "display_callback").is_dir()
