"""The PyInstaller bundle (`make bundle`) starts offscreen and reaches its painted main
window. Builds the bundle first when dist/ has none or an older one (a few minutes)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.bundle_support import fresh_bundle

# the bundle is built (when missing or stale) in the fixture, bounded by its own time-out;
# the test's own 120 s start after it
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120, func_only=True)]


@pytest.fixture(scope="module")
def bundle() -> Path:
    return fresh_bundle()


def test_bundle_reaches_main_window(bundle: Path, tmp_path: Path) -> None:
    BUNDLE = bundle
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", FLYPACK_CONFIG_DIR=str(tmp_path),
               PATH="/usr/bin:/bin")  # nothing from the venv: the bundle must carry it all
    start = time.monotonic()
    r = subprocess.run([str(BUNDLE), "--smoke"], env=env, capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    took = time.monotonic() - start
    assert r.returncode == 0, r.stderr[-3000:]
    assert "main window ready (FleetWindow" in r.stdout, r.stdout + r.stderr[-2000:]
    print(f"bundle start to painted main window: {took:.2f} s")
    help_ = subprocess.run([str(BUNDLE), "--help"], env=env, capture_output=True, text=True,
                           timeout=60)
    assert help_.returncode == 0 and "flypack-desktop" in help_.stdout
