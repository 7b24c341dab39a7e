"""Headless provisioning: the wizard's backend from a shell (scripted installs, the bundle test).

    flypack-desktop provision --host 198.51.100.7 --password-env SSH_PW \\
        --host-key SHA256:… --settings flypack-01.json --bundle flypack-bundle-….tar
    python -m desktop.provisioning.cli …        (the same without the ``flypack-desktop`` entry)

The venv's ``flypack-desktop`` (:mod:`desktop.app`) and the frozen bundle take the same
command: both parse it with :func:`add_arguments` and run :func:`run`.

Without ``--host-key`` it prints the target's fingerprint and stops (exit 2): compare it with
the machine's console, then pass it. Runs the preflight checks (any failure stops), then the
deploy; prints one line per check and per deploy event, and the result as one JSON line.
Exit: 0 deployed, 1 the deploy failed or was canceled, 2 bad input or a failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # paramiko, ansible-runner and the client load only when a command runs
    from desktop.provisioning.settings import FlypackSettings

__all__ = ["DESCRIPTION", "EPILOG", "Parser", "add_arguments", "build_parser", "load_settings",
           "main", "run_command"]

DESCRIPTION = "Provision a flypack server over SSH (the wizard, headless)."
EPILOG = ("Without --host-key it prints the target's fingerprint and stops (exit 2). "
          "exit status: 0 deployed, 1 the deploy failed or was canceled, 2 bad input or a "
          "failed check")


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (what is wrong, where help is), exit 2;
    ``flypack-desktop`` uses it too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _ssh_port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1..65535")
    return int(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``flypack-desktop provision`` (shared by the venv and the bundle)."""
    p.add_argument("--host", required=True, help="the target's address or name")
    p.add_argument("--port", type=_ssh_port, default=22, help="SSH port (default 22)")
    p.add_argument("--user", default="root", help="SSH user (default root)")
    p.add_argument("--password-env", help="environment variable holding the SSH password "
                                          "(or the key's passphrase)")
    p.add_argument("--key", help="private key file")
    p.add_argument("--become-password-env", help="environment variable holding the sudo "
                                                 "password (user is not root)")
    p.add_argument("--host-key", help="the confirmed SHA256:… fingerprint of the target")
    p.add_argument("--settings", required=True, help="JSON file with the flypack settings")
    p.add_argument("--bundle", help="offline bundle (flypack-bundle-*.tar)")
    p.add_argument("--mirror", help="package mirror the target can reach (http://…)")
    p.add_argument("--workdir", default=str(Path.home() / ".cache" / "flypack" / "deploy"),
                   help="where the deploy keeps its files (default ~/.cache/flypack/deploy)")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="flypack-desktop provision", description=DESCRIPTION, epilog=EPILOG)
    add_arguments(p)
    return p


def load_settings(path: Path) -> FlypackSettings:
    from desktop.provisioning.errors import ProvisionError
    from desktop.provisioning.settings import FlypackSettings, MonitoredNetwork

    try:
        raw = json.loads(path.read_text())
        nets = tuple(MonitoredNetwork(**n) for n in raw.pop("monitored", []))
        for key in ("dns", "ntp_servers"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return FlypackSettings(**raw, monitored=nets)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ProvisionError(f"cannot read the settings {path}: {exc}",
                             "give a JSON object with the fields of FlypackSettings "
                             "(docs/provisioning.md)") from None


def _env(name: str | None) -> str | None:
    from desktop.provisioning.errors import ProvisionError

    if not name:
        return None
    value = os.environ.get(name)
    if value is None:
        raise ProvisionError(f"the environment variable {name} is not set",
                             f"export {name}=… before running")
    return value


def run(args: argparse.Namespace) -> int:
    import threading
    from dataclasses import asdict

    from desktop.provisioning import preflight
    from desktop.provisioning.ansible_bin import find_ansible_playbook, unsupported_reason
    from desktop.provisioning.errors import ProvisionError
    from desktop.provisioning.settings import Target, validate, validate_target
    from desktop.provisioning.ssh import connect, fetch_host_key

    reason = unsupported_reason()
    if reason:
        raise ProvisionError(reason)
    settings = load_settings(Path(args.settings))
    target = Target(args.host, args.port, args.user, _env(args.password_env), args.key,
                    _env(args.become_password_env), args.host_key)
    problems = validate_target(target) + validate(settings)
    if problems:
        raise ProvisionError("; ".join(problems), "fix the arguments or the settings file")
    if not args.host_key:
        key = fetch_host_key(args.host, args.port)
        print(f"host key of {args.host}:{args.port}: {key.key_type} {key.fingerprint}\n"
              "compare it with the machine's console, then pass --host-key "
              f"{key.fingerprint}")
        return 2
    bundle = Path(args.bundle) if args.bundle else None
    with connect(target) as session:
        checks = preflight.run(session, has_bundle=bundle is not None and bundle.is_file(),
                               become_password=target.become_password, mirror=args.mirror)
    for c in checks:
        print(f"check {c.status:4} {c.title}: {c.detail}" + (f" — {c.hint}" if c.hint else ""),
              flush=True)
    if any(c.status == "fail" for c in checks):
        return 2
    from desktop.provisioning.deploy import DeployDriver  # ansible-runner: only now

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    driver = DeployDriver(target, settings, bundle=bundle, workdir=workdir,
                          ansible_playbook=find_ansible_playbook())
    result = driver.run(lambda e: print(f"{e.kind:9} {e.message}", flush=True),
                        threading.Event())
    shown = asdict(result)
    if shown.get("admin_password"):
        shown["admin_password"] = "(printed once below)"
    print("result " + json.dumps(shown), flush=True)
    if result.admin_password:
        print(f"admin password for {result.admin_user}: {result.admin_password}", flush=True)
    return 0 if result.status == "successful" else 1


def run_command(args: argparse.Namespace) -> int:
    """:func:`run` with a user's failure as one line on stderr and exit 2."""
    from desktop.provisioning.errors import ProvisionError

    try:
        return run(args)
    except ProvisionError as exc:
        print(f"flypack-desktop provision: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
