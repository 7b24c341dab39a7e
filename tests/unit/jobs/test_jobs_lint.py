"""The agent's playbooks are ansible-lint clean (production profile, playbooks/.ansible-lint)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REQUIRE_REAL

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_playbooks_are_ansible_lint_clean(tmp_path: Path) -> None:
    lint = Path(sys.executable).with_name("ansible-lint")
    if not lint.exists():
        msg = "ansible-lint is not installed (pip install -e '.[dev]')"
        if REQUIRE_REAL:
            pytest.fail(msg)
        pytest.skip(msg)
    env = {**os.environ, "PATH": f"{lint.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "NO_COLOR": "1", "ANSIBLE_HOME": str(tmp_path)}
    res = subprocess.run([str(lint), "--offline", "--nocolor"], cwd=ROOT / "playbooks",
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
