"""Second entry point of the frozen desktop: ``flypack-ansible-playbook`` (design §9).

The PyInstaller bundle has no ``ansible-playbook``; the wizard's deploy (ansible-runner) runs
this executable instead. Ansible and ansible-runner are collected as source files beside it
(PyInstaller ``module_collection_mode="py"``): Ansible's plugin loader and the modules it ships
to the target are read from files, not from the frozen archive.
"""

from __future__ import annotations

import locale
import os
import shutil
import sys


def _prepare() -> None:
    # children (ssh, tar on the laptop) must not load the bundle's shared libraries
    orig = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if orig is not None:
        os.environ["LD_LIBRARY_PATH"] = orig
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
    # Ansible runs modules for `delegate_to: localhost` with ansible_playbook_python, i.e.
    # sys.executable: that must be a real interpreter, not this frozen program
    # Ansible refuses a non-UTF-8 locale; a frozen program gets no PEP 538 coercion
    try:
        locale.setlocale(locale.LC_ALL, "")
        encoding = locale.getlocale()[1] or ""
    except (locale.Error, ValueError):
        encoding = ""
    if encoding.lower().replace("-", "") != "utf8":
        os.environ["LC_ALL"] = "C.UTF-8"
    python = shutil.which("python3") or "/usr/bin/python3"
    sys.executable = python
    sys.argv[0] = "ansible-playbook"


def main() -> int:
    _prepare()
    from ansible.cli.playbook import main as playbook_main

    result = playbook_main()
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
