"""The journeys tier (`make test-journeys`): the product used as a person uses it.

One demo (`scripts/demo.py --no-desktop` on a free port) is shared by the whole session;
tests that must own a demo (a fresh clone, a load test) start their own with DemoRun.start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.journeys.demo_run import DemoRun

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoRun]:
    run = DemoRun.start()
    try:
        yield run
    finally:
        run.stop()
