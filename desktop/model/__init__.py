"""Pure view state for the desktop (no Qt, no I/O): ring buffers, the device board, formats.

The UI's Qt models are thin adapters over these, so the logic is tested without a display.
The numpy-based ones load on first use: the fleet overview, painted at start, needs none.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from desktop.model.board import PROBE_SERIES, DeviceBoard, DeviceRow, ProbeLive, derive_state

if TYPE_CHECKING:
    from desktop.model.ringbuffer import RingBuffer
    from desktop.model.series import SeriesKey, SeriesStore

_LAZY = {"RingBuffer": "ringbuffer", "SeriesKey": "series", "SeriesStore": "series"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f"desktop.model.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'desktop.model' has no attribute {name!r}")

__all__ = [
    "PROBE_SERIES",
    "DeviceBoard",
    "DeviceRow",
    "ProbeLive",
    "RingBuffer",
    "SeriesKey",
    "SeriesStore",
    "derive_state",
]
