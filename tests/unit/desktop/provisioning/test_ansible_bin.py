"""Finding Ansible: the frozen bundle's own entry point, the venv, PATH; Windows says WSL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.provisioning.ansible_bin import FROZEN_NAME, find_ansible_playbook, unsupported_reason


def exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    os.chmod(path, 0o755)
    return path


def test_frozen_bundle_uses_its_second_entry_point(tmp_path: Path) -> None:
    main = exe(tmp_path / "bundle" / "flypack-desktop")
    assert find_ansible_playbook(frozen=True, executable=str(main)) is None  # not shipped
    ansible = exe(tmp_path / "bundle" / FROZEN_NAME)
    assert find_ansible_playbook(frozen=True, executable=str(main)) == str(ansible)
    exe(tmp_path / "bin" / "ansible-playbook")  # PATH is never used when frozen
    assert find_ansible_playbook(frozen=True, executable=str(main),
                                 path=str(tmp_path / "bin")) == str(ansible)


def test_venv_first_then_path(tmp_path: Path) -> None:
    py = exe(tmp_path / "venv" / "bin" / "python")
    on_path = exe(tmp_path / "usr" / "bin" / "ansible-playbook")
    assert find_ansible_playbook(frozen=False, executable=str(py),
                                 path=str(on_path.parent)) == str(on_path)
    venv = exe(tmp_path / "venv" / "bin" / "ansible-playbook")
    assert find_ansible_playbook(frozen=False, executable=str(py),
                                 path=str(on_path.parent)) == str(venv)
    assert find_ansible_playbook(frozen=False, executable=str(tmp_path / "x" / "python"),
                                 path=str(tmp_path / "nothing")) is None


@pytest.mark.parametrize("platform", ["win32", "cygwin", "msys"])
def test_windows_explains_wsl(platform: str) -> None:
    reason = unsupported_reason(platform)
    assert reason is not None and "WSL" in reason and "wsl --install" in reason


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_posix_is_supported(platform: str) -> None:
    assert unsupported_reason(platform) is None
