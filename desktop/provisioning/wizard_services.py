"""What the wizard needs from outside, without Qt: SSH, the host key store, secrets, the deploy
driver and where runs go. Injected (tests swap the driver at the edge); paramiko and
ansible-runner load only when used.

    services = WizardServices(HostKeyStore.load(path), SecretStore.detect(), workdir)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from desktop.client import SecretStore
from desktop.provisioning.ansible_bin import find_ansible_playbook, unsupported_reason
from desktop.provisioning.hostkeys import HostKey, HostKeyStore
from desktop.provisioning.settings import FlypackSettings, Target

if TYPE_CHECKING:
    from desktop.provisioning.deploy import DeployEvent, DeployResult
    from desktop.provisioning.ssh import SshSession

__all__ = ["Driver", "WizardServices", "connect", "default_driver", "fetch_host_key",
           "newest_bundle", "password_key"]


class Driver(Protocol):
    def run(self, on_event: Callable[[DeployEvent], None],
            cancel: threading.Event) -> DeployResult: ...


def default_driver(target: Target, settings: FlypackSettings, bundle: Path | None,
                   workdir: Path) -> Driver:
    from desktop.provisioning.deploy import DeployDriver

    return DeployDriver(target, settings, bundle=bundle, workdir=workdir,
                        ansible_playbook=find_ansible_playbook())


def fetch_host_key(host: str, port: int) -> HostKey:
    from desktop.provisioning import ssh

    return ssh.fetch_host_key(host, port)


def connect(target: Target) -> SshSession:
    from desktop.provisioning import ssh

    return ssh.connect(target)


def newest_bundle() -> Path | None:
    """The newest offline bundle in the bundle cache (prefilled on the first page)."""
    from desktop.provisioning.bundle import CACHE

    try:
        found = sorted(CACHE.glob("flypack-bundle-*.tar"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return None
    return found[-1] if found else None


def password_key(url: str, user: str) -> str:
    """The keyring entry of a provisioned flypack's admin password."""
    return f"{url}|{user}|password"


@dataclass
class WizardServices:
    hostkeys: HostKeyStore
    secrets: SecretStore
    workdir: Path
    fetch_host_key: Callable[[str, int], HostKey] = fetch_host_key
    connect: Callable[[Target], SshSession] = connect
    make_driver: Callable[[Target, FlypackSettings, Path | None, Path], Driver] = default_driver
    unsupported: str | None = field(default_factory=unsupported_reason)
    bundle: Path | None = field(default_factory=newest_bundle)
