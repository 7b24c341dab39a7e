"""Helpers for the simulated-segment tests: a private address block, a segment on its own
loop in a thread, the test clip encoded once per session."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from server_agent.config import SimSection
from server_agent.sim.segment import SimulatedSegment
from server_agent.sim.ts import encode_clip
from tests.support import require_binary

T = TypeVar("T")


_BLOCKS = list(range(100, 251))  # 127.100 to 127.250: clear of a demo's 127.77 and up
random.shuffle(_BLOCKS)


def _block_is_free(x: int, port: int) -> bool:
    """Nobody (another test run, a simulator) serves the block's first encoder's echo port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((f"127.{x}.1.1", port))
        except OSError:
            return False
    return True


def sim_section(**kw: Any) -> SimSection:
    """A [sim] table on a 127.x.0.0 block (x in 100..250) that this test process has not
    handed out before and that no other process serves now, so that tests never collide with
    a running demo (127.77 and up), with each other, or with a second test run."""
    data: dict[str, Any] = {"enabled": True, "snmp_port": 11161,
                            "echo_port": 17007, "tcp_port": 18023, "http_port": 18080,
                            "snmp": False, "streams": 0}
    data.update(kw)
    for _ in range(len(_BLOCKS)):  # bounded: each block once, then the cycle starts again
        x = _BLOCKS.pop(0)
        _BLOCKS.append(x)
        if _block_is_free(x, int(data["echo_port"])):
            break
    data.setdefault("base_address", f"127.{x}.0.0")
    return SimSection(**data)


class SegmentThread:
    """A started segment on an event loop in a background thread."""

    def __init__(self, seg: SimulatedSegment) -> None:
        self.seg = seg
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.call(self.seg.stop(), 30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@contextmanager
def running_segment(cfg: SimSection, cache_dir: Path | None = None) -> Iterator[SegmentThread]:
    seg = SimulatedSegment(cfg, cache_dir)
    st = SegmentThread(seg)
    try:
        st.call(seg.start())
        yield st
    finally:
        st.close()  # stops snmpsim (by PID), listeners and senders, also on failure


@pytest.fixture(scope="session")
def sim_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test clip, encoded once per session (a few seconds of CPU)."""
    require_binary("ffmpeg")
    d = tmp_path_factory.mktemp("simclip")
    encode_clip(d, 3.0, 10)
    return d
