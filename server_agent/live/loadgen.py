"""A synthetic collector for benchmarks and load tests: N series at a fixed rate.

Each sample's value is a smooth wave and its time is the moment it was created, so a client
can measure the live path's latency as ``receive time - t``. Off unless ``[loadgen].series``
is set.
"""

from __future__ import annotations

import asyncio
import math
import time

from server_agent.config import LoadgenSection
from server_agent.live.bus import LiveBus, Sample, labels_of
from server_agent.metrics.catalog import declare

LOADGEN_SERIES = declare("flypack_loadgen_value", "gauge",
                         "Synthetic benchmark series ([loadgen]); not a measurement.",
                         ("flypack", "series_index"))


async def run_loadgen(cfg: LoadgenSection, bus: LiveBus, flypack: str) -> None:
    if cfg.series <= 0:
        return
    labels = [labels_of({"flypack": flypack, "series_index": str(i)}) for i in range(cfg.series)]
    period = 1.0 / cfg.rate_hz
    loop = asyncio.get_running_loop()
    next_tick = loop.time()
    while True:
        now = time.time()
        bus.publish(
            Sample(LOADGEN_SERIES.name, lab, now, math.sin(now + i))
            for i, lab in enumerate(labels)
        )
        next_tick += period
        delay = next_tick - loop.time()
        if delay < 0:  # fell behind: skip ticks instead of bursting
            next_tick = loop.time()
            delay = 0
        await asyncio.sleep(delay)
