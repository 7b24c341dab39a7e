"""Pure view state for the desktop (no Qt, no I/O): ring buffers, the device board, formats.

The UI's Qt models are thin adapters over these, so the logic is tested without a display.
"""

from __future__ import annotations

from desktop.model.board import PROBE_SERIES, DeviceBoard, DeviceRow, ProbeLive, derive_state
from desktop.model.ringbuffer import RingBuffer
from desktop.model.series import SeriesKey, SeriesStore

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
