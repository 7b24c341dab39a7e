"""Typed failures of the provisioning wizard's SSH side. Every message says what happened and
what to do; they are :class:`desktop.client.AgentError` so the desktop's error plumbing
(banner, ``run_op``) shows them as text, never as a traceback.

    ProvisionError                  anything the wizard cannot do for you
    ├── TargetUnreachable           no SSH answer: wrong address/port, machine off, firewall
    ├── LoginFailed                 wrong password/key, or the user may not log in
    ├── HostKeyChanged              the target's SSH host key differs from the remembered one
    ├── HostKeyNotConfirmed         connecting before the key was shown and confirmed
    ├── RemoteCommandFailed         a preflight command could not run on the target
    └── ProvisioningUnsupported     this laptop cannot run Ansible (Windows without WSL)
"""

from __future__ import annotations

from desktop.client import AgentError

__all__ = [
    "HostKeyChanged",
    "HostKeyNotConfirmed",
    "LoginFailed",
    "ProvisionError",
    "ProvisioningUnsupported",
    "RemoteCommandFailed",
    "TargetUnreachable",
]


class ProvisionError(AgentError):
    """Base class: ``detail`` is what happened, ``hint`` what to do about it."""


class TargetUnreachable(ProvisionError):
    pass


class LoginFailed(ProvisionError):
    pass


class HostKeyChanged(ProvisionError):
    """Never accepted silently: a reinstalled machine, or someone in the middle."""

    def __init__(self, host: str, remembered: str, seen: str) -> None:
        super().__init__(
            f"the SSH host key of {host} CHANGED: remembered {remembered}, now {seen}; "
            "nothing was sent to it",
            "if the machine was reinstalled, compare the new key with its console "
            "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then tap 'Forget the old "
            "key' and confirm the new one; otherwise do not provision it")
        self.remembered, self.seen = remembered, seen


class HostKeyNotConfirmed(ProvisionError):
    pass


class RemoteCommandFailed(ProvisionError):
    pass


class ProvisioningUnsupported(ProvisionError):
    pass
