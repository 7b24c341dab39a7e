"""The PyInstaller bundle the slow tests run: rebuilt when dist/ has none or when it is older
than the sources it freezes (a stale bundle would test yesterday's code)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support import ROOT

DIST = ROOT / "dist" / "flypack-desktop"
BUNDLE = Path(os.environ.get("FLYPACK_BUNDLE",  # another build of the bundle, if given
                             DIST / "flypack-desktop"))
SOURCES = ("desktop", "server_agent", "deploy", "playbooks", "packaging")


def newest_source_mtime() -> float:
    newest = (ROOT / "pyproject.toml").stat().st_mtime
    for top in SOURCES:
        for p in (ROOT / top).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts:
                newest = max(newest, p.stat().st_mtime)
    return newest


def stale_reason(bundle: Path = BUNDLE) -> str | None:
    """Why the bundle must be (re)built, or None when it is current."""
    if "FLYPACK_BUNDLE" in os.environ:
        return None  # given on purpose: used as it is
    companion = bundle.parent / "flypack-ansible-playbook"
    if not bundle.exists() or not companion.exists():
        return "no bundle in dist/"
    if bundle.stat().st_mtime < newest_source_mtime():
        return "dist/ is older than the sources"
    return None


def fresh_bundle(timeout_s: float = 1800) -> Path:
    """The bundle, built first (`make bundle`, a few minutes) when missing or stale."""
    if stale_reason() is not None:
        r = subprocess.run(["make", "bundle"], cwd=ROOT, capture_output=True, text=True,
                           timeout=timeout_s)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        assert "bundle size:" in r.stdout
    return BUNDLE
