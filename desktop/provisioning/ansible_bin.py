"""Where the laptop's Ansible is, and whether this laptop can provision at all.

    find_ansible_playbook()        # frozen bundle: its own flypack-ansible-playbook entry point;
                                   # else the venv's bin/ansible-playbook, else PATH
    unsupported_reason()           # None, or why (Windows: Ansible needs WSL) — shown, not raised

Design §9: a PyInstaller-frozen desktop has no ``ansible-playbook``; the bundle carries a second
frozen entry point. Ansible's controller does not run on Windows.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = ["FROZEN_NAME", "find_ansible_playbook", "unsupported_reason"]

FROZEN_NAME = "flypack-ansible-playbook"


def find_ansible_playbook(*, frozen: bool | None = None, executable: str | None = None,
                          path: str | None = None) -> str | None:
    """The ``ansible-playbook`` the deploy should run, or None when there is none."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    here = Path(executable or sys.executable).parent
    if frozen:
        exe = here / (FROZEN_NAME + (".exe" if os.name == "nt" else ""))
        return str(exe) if exe.is_file() and os.access(exe, os.X_OK) else None
    venv = here / "ansible-playbook"  # the interpreter's own venv first, then PATH
    if venv.is_file() and os.access(venv, os.X_OK):
        return str(venv)
    return shutil.which("ansible-playbook", path=path)


def unsupported_reason(platform: str | None = None) -> str | None:
    """Why this laptop cannot run the deploy (the wizard says so instead of failing)."""
    platform = platform or sys.platform
    if platform.startswith(("win", "cygwin", "msys")):
        return ("Provisioning runs Ansible on this laptop, and Ansible's controller does not "
                "run on Windows. Install WSL (wsl --install -d Debian), install flypack-desktop "
                "inside it and start the wizard there. Monitoring works here as usual.")
    return None
