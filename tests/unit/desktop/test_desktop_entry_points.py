"""`flypack-desktop` from the venv and from the frozen bundle's entry script take the same
commands (issue 14 finding 3), and the app does not log every HTTP request at INFO (finding 5).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop.app import CHATTY_LOGGERS, build_parser, setup_logging
from tests.support import ROOT

VENV = str(Path(sys.executable).with_name("flypack-desktop"))
BUNDLE = [sys.executable, str(ROOT / "packaging" / "flypack_desktop_main.py")]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("args", [
    ["provision", "--help"],
    ["provision", "--host", "127.0.0.1", "--settings", "/nonexistent-flypack/s.json"],
    ["provision", "--settings", "s.json"],
])
def test_the_venv_and_the_bundle_take_the_same_provision_command(args: list[str]) -> None:
    venv, bundle = _run([VENV, *args]), _run([*BUNDLE, *args])
    assert (venv.returncode, venv.stdout, venv.stderr) == (
        bundle.returncode, bundle.stdout, bundle.stderr)
    assert "Traceback" not in venv.stderr + bundle.stderr
    if args[-1] == "--help":
        assert venv.returncode == 0
        assert venv.stdout.startswith("usage: flypack-desktop provision ")
        assert "--host-key" in venv.stdout and "--settings" in venv.stdout
    else:
        assert venv.returncode == 2 and venv.stderr.count("\n") == 1


def test_the_apps_help_lists_the_provision_command() -> None:
    text = build_parser().format_help()
    assert "provision" in text and "-v, --verbose" in text


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level,
             {n: logging.getLogger(n).level for n in CHATTY_LOGGERS})
    root.handlers = []
    try:
        yield
    finally:
        root.handlers, root.level = saved[0], saved[1]
        for n, level in saved[2].items():
            logging.getLogger(n).setLevel(level)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _request_lines() -> list[str]:
    """Log lines that one real httpx request (to an in-process transport) produces."""
    rec = _Records()
    logging.getLogger().addHandler(rec)
    try:
        with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as c:
            c.get("http://flypack.invalid/api/v1/health")
    finally:
        logging.getLogger().removeHandler(rec)
    return [r.getMessage() for r in rec.records if r.name.startswith(CHATTY_LOGGERS)]


@pytest.mark.usefixtures("fresh_logging")
def test_http_requests_are_not_logged_at_info() -> None:
    setup_logging("INFO", verbose=False)
    assert logging.getLogger().isEnabledFor(logging.INFO)  # the app's own INFO lines stay
    assert _request_lines() == []


@pytest.mark.usefixtures("fresh_logging")
def test_verbose_shows_every_request() -> None:
    setup_logging("INFO", verbose=True)
    assert any("HTTP Request: GET http://flypack.invalid" in m for m in _request_lines())
