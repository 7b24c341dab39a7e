"""DeployDriver: runs deploy/site.yml against one target through ansible-runner (no Qt).

The wizard calls ``DeployDriver(...).run(on_event, cancel)`` on a worker thread. Steps:

1. validate the target and the settings (problems end the run before anything connects);
2. paramiko (deploy_ssh): check the pinned host key, authorise a temporary key, upload the
   offline bundle;
3. ansible-runner with an inventory built from Target + settings; secrets (admin password,
   sudo password) only in ansible-runner's 0600 env files, removed when the run ends;
4. the result: status, changed count, the failed task with what to do, and the agent's URL,
   certificate fingerprint and first admin (reported by the agent role via set_stats).

Running again after fixing a failure continues safely: every role is idempotent.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from desktop.provisioning import ansible_bin
from desktop.provisioning.bundle_debs import sha256_file
from desktop.provisioning.deploy_ssh import (
    install_temp_key,
    remove_temp_key,
    upload_bundle,
    write_known_hosts,
)
from desktop.provisioning.errors import ProvisionError
from desktop.provisioning.settings import FlypackSettings, Target, to_host_vars, validate
from desktop.provisioning.settings import validate_target as _validate_target
from desktop.provisioning.ssh import SshSession, connect, fetch_host_key

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"


@dataclass
class DeployEvent:
    kind: str  # play | role | task | ok | changed | failed | skipped | unreachable | log
    host: str | None
    role: str | None
    task: str | None
    message: str


@dataclass
class DeployResult:
    status: str  # successful | failed | canceled
    changed: int
    failed_task: str | None
    message: str
    agent_url: str | None
    fingerprint: str | None
    admin_user: str | None
    admin_password: str | None


class DeployError(RuntimeError):
    """The deploy could not start (no ansible-playbook, no deploy/ directory, ...)."""


def find_ansible_playbook(explicit: str | None = None) -> str:
    """ansible-playbook: given, beside this Python (venv or frozen bundle), or on PATH."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise DeployError(f"{explicit} is not an executable ansible-playbook")
        return explicit
    reason = ansible_bin.unsupported_reason()
    if reason:
        raise DeployError(reason)
    found = ansible_bin.find_ansible_playbook()
    if found is None:
        raise DeployError("ansible-playbook was not found: install flypack with its [desktop] "
                          "extra (it brings ansible-core) or put ansible-playbook on PATH")
    return found


def _failure_message(task: str | None, role: str | None, detail: str) -> str:
    where = f"task '{task}'" + (f" of role {role}" if role else "") if task else "the deploy"
    return (f"{where} failed: {detail.strip()[:600]}. Fix the cause and run the deploy again: "
            "what already succeeded is kept and not repeated.")


class _Collector:
    """Turns ansible-runner events into DeployEvents and remembers what the result needs."""

    def __init__(self, on_event: Callable[[DeployEvent], None]) -> None:
        self.on_event = on_event
        self.role: str | None = None
        self.failed_task: str | None = None
        self.failed_role: str | None = None
        self.failed_detail = ""
        self.unreachable = ""
        self.stats: dict[str, Any] = {}
        self.artifacts: dict[str, Any] = {}

    def emit(self, kind: str, host: str | None, task: str | None, message: str) -> None:
        try:
            self.on_event(DeployEvent(kind, host, self.role, task, message))
        except Exception:  # a UI callback must never break the deploy
            pass

    def __call__(self, ev: dict[str, Any]) -> bool:
        name = ev.get("event", "")
        data = ev.get("event_data") or {}
        host = data.get("host")
        task = data.get("task")
        if name == "playbook_on_play_start":
            self.emit("play", None, None, f"play: {data.get('play', '')}")
        elif name == "playbook_on_task_start":
            role = data.get("role") or None
            if role != self.role:
                self.role = role
                if role:
                    self.emit("role", None, None, f"role {role}")
            self.emit("task", None, task, str(task))
        elif name == "runner_on_ok":
            res = data.get("res") or {}
            changed = bool(res.get("changed"))
            text = f"{'changed' if changed else 'ok'}: {task}"
            if str(data.get("task_action", "")).endswith("debug") and res.get("msg"):
                text += f": {res['msg']}"  # the roles' notes for the technician
            self.emit("changed" if changed else "ok", host, task, text)
        elif name == "runner_on_skipped":
            self.emit("skipped", host, task, f"skipped: {task}")
        elif name == "runner_on_failed" and not data.get("ignore_errors"):
            res = data.get("res") or {}
            detail = str(res.get("msg") or res.get("stderr") or res.get("stdout") or "failed")
            self.failed_task, self.failed_role, self.failed_detail = task, self.role, detail
            self.emit("failed", host, task, f"failed: {task}: {detail[:400]}")
        elif name == "runner_on_unreachable":
            res = data.get("res") or {}
            self.unreachable = str(res.get("msg") or "unreachable")
            self.failed_task, self.failed_role = task, self.role
            self.emit("unreachable", host, task, f"unreachable: {self.unreachable[:400]}")
        elif name == "playbook_on_stats":
            self.stats = data
            self.artifacts = dict(data.get("artifact_data") or {})
        elif name == "verbose" and ev.get("stdout", "").strip():
            self.emit("log", None, None, ev["stdout"].strip()[:1000])
        return True  # else ansible-runner does not write the event files (design §9)


class DeployDriver:
    def __init__(self, target: Target, settings: FlypackSettings, *, bundle: Path | None,
                 workdir: Path, ansible_playbook: str | None = None) -> None:
        self.target = target
        self.settings = settings
        self.bundle = bundle
        self.workdir = workdir
        self.ansible_playbook = ansible_playbook
        self.deploy_dir = DEPLOY_DIR

    def _fail(self, message: str, changed: int = 0, task: str | None = None) -> DeployResult:
        return DeployResult("failed", changed, task, message, None, None, None, None)

    def run(self, on_event: Callable[[DeployEvent], None],
            cancel: threading.Event) -> DeployResult:
        """Blocking: call from a worker thread."""
        problems = _validate_target(self.target) + validate(self.settings)
        if problems:
            return self._fail("the settings have problems: " + "; ".join(problems))
        try:
            playbook_bin = find_ansible_playbook(self.ansible_playbook)
        except DeployError as exc:
            return self._fail(str(exc))
        if not (self.deploy_dir / "site.yml").is_file():
            return self._fail(f"{self.deploy_dir}/site.yml is missing: this flypack "
                              "installation is incomplete; reinstall it")
        if self.bundle is not None and not self.bundle.is_file():
            return self._fail(f"offline bundle {self.bundle} does not exist; build it with "
                              "`python -m desktop.provisioning.bundle` or deploy without it")
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("deploy-%Y%m%d-%H%M%S-"),
                                        dir=self.workdir))
        secret_dir = run_dir / "secret"
        secret_dir.mkdir(mode=0o700)
        collector = _Collector(on_event)
        session: SshSession | None = None
        try:
            t = self.target
            collector.emit("log", t.host, None, f"connecting to {t.user}@{t.host}:{t.port}")
            pinned = t.host_key_sha256
            if not pinned:  # the wizard always pins; a script may trust on first use
                pinned = fetch_host_key(t.host, t.port).fingerprint
                collector.emit("log", t.host, None, f"host key {pinned} trusted on first use")
            session = connect(t, pinned)
            known_hosts, key = secret_dir / "known_hosts", secret_dir / "id_deploy"
            write_known_hosts(session, known_hosts)
            install_temp_key(session, key)
            bundle_vars: dict[str, object] = {"bootstrap_bundle": None}
            if self.bundle is not None:
                digest = sha256_file(self.bundle)
                remote = upload_bundle(session, self.bundle, digest,
                                       lambda m: collector.emit("log", None, None, m))
                bundle_vars = {"bootstrap_bundle": remote, "bootstrap_bundle_sha256": digest}
            if cancel.is_set():
                return DeployResult("canceled", 0, None, "canceled before Ansible started",
                                    None, None, None, None)
            return self._run_ansible(run_dir, playbook_bin, known_hosts, key, bundle_vars,
                                     collector, cancel)
        except ProvisionError as exc:
            return self._fail(str(exc))
        finally:
            if session is not None:
                try:
                    remove_temp_key(session)
                except ProvisionError:
                    collector.emit("log", None, None,
                                   "could not remove the deploy's temporary key from the "
                                   "target's authorized_keys (marked flypack-deploy-temporary)")
                session.close()
            shutil.rmtree(secret_dir, ignore_errors=True)
            for name in ("extravars", "passwords", "ssh_key"):
                (run_dir / "env" / name).unlink(missing_ok=True)

    def _inventory(self, known_hosts: Path, key: Path,
                   bundle_vars: dict[str, object]) -> dict[str, Any]:
        t = self.target
        host_vars: dict[str, Any] = {
            "ansible_host": t.host, "ansible_port": t.port, "ansible_user": t.user,
            "ansible_ssh_private_key_file": str(key),
            "ansible_ssh_common_args": (f"-o UserKnownHostsFile={known_hosts} "
                                        "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"),
            **to_host_vars(self.settings), **bundle_vars,
        }
        return {"all": {"children": {"flypacks": {"hosts": {self.settings.flypack_id:
                                                            host_vars}}}}}

    def _run_ansible(self, run_dir: Path, playbook_bin: str, known_hosts: Path, key: Path,
                     bundle_vars: dict[str, object], collector: _Collector,
                     cancel: threading.Event) -> DeployResult:
        import ansible_runner  # heavy: only when a deploy really runs

        inv_dir = run_dir / "inventory"
        inv_dir.mkdir()
        (inv_dir / "hosts.yml").write_text(
            yaml.safe_dump(self._inventory(known_hosts, key, bundle_vars)))
        admin_password = secrets.token_urlsafe(18)
        extravars: dict[str, Any] = {"agent_admin_password": admin_password}
        if self.target.become_password:
            extravars["ansible_become_password"] = self.target.become_password
        bin_dir = str(Path(playbook_bin).parent)
        env = {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_ROLES_PATH": str(self.deploy_dir / "roles"),
            "ANSIBLE_CONFIG": str(self.deploy_dir / "ansible.cfg"),
            "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"), "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "FLYPACK_PROJECT_ROOT": str(self.deploy_dir.parent),
            # ansible-runner would set False, and OpenSSH takes the first option it is given:
            # the pinned known_hosts must be enforced
            "ANSIBLE_HOST_KEY_CHECKING": "True",
        }
        # OpenSSH's control socket must fit a Unix socket path (~104 bytes): below a long HOME
        # (~/.ansible/cp/<40 hex>) ssh quietly gives up multiplexing and every task reconnects
        control_dir = tempfile.mkdtemp(prefix="fp-cp-")
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = control_dir
        try:
            r = ansible_runner.run(
                private_data_dir=str(run_dir), project_dir=str(self.deploy_dir),
                inventory=str(inv_dir / "hosts.yml"),
                # an explicit binary (e.g. a frozen bundle's entry point) runs in
                # ansible-runner's raw mode, which does not add the playbook: pass it on the
                # command line
                binary=playbook_bin, cmdline=shlex.quote(str(self.deploy_dir / "site.yml")),
                envvars=env, extravars=extravars,
                settings={"pexpect_timeout": 0.2, "suppress_ansible_output": True},
                event_handler=collector, cancel_callback=cancel.is_set, quiet=True,
                rotate_artifacts=5)
        finally:
            shutil.rmtree(control_dir, ignore_errors=True)
        changed = sum(int(v) for v in (collector.stats.get("changed") or {}).values())
        status = r.status
        if status == "canceled":
            return DeployResult("canceled", changed, None,
                                "the deploy was canceled; run it again to finish: what was "
                                "done is kept", None, None, None, None)
        if status != "successful":
            if collector.unreachable:
                msg = (f"lost the SSH connection to the target ({collector.unreachable[:300]}); "
                       "if the network role was changing addresses it rolls back by itself "
                       "within 2 minutes: check the management settings and run again")
            elif collector.failed_task:
                msg = _failure_message(collector.failed_task, collector.failed_role,
                                       collector.failed_detail)
            else:
                msg = (f"ansible-playbook ended with {status} (rc {r.rc}); see "
                       f"{run_dir}/artifacts for its output")
            return DeployResult("failed", changed, collector.failed_task, msg, None, None,
                                None, None)
        art = collector.artifacts
        created = bool(art.get("flypack_admin_created"))
        url = f"https://{self.settings.mgmt_address.split('/')[0]}:{self.settings.agent_port}"
        msg = (f"deployed {self.settings.flypack_id}: agent at {url}"
               + (f"; first admin '{self.settings.admin_user}' created" if created else
                  f"; admin '{self.settings.admin_user}' existed already (password unchanged)"))
        return DeployResult("successful", changed, None, msg, url,
                            art.get("flypack_fingerprint"), self.settings.admin_user,
                            admin_password if created else None)
