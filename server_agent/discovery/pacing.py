"""A token bucket shared by everything one sweep sends: at most ``pps`` packets per second."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, pps: float, deadline: float | None = None) -> None:
        if pps <= 0:
            raise ValueError("pps must be positive")
        self.pps = float(pps)
        self.burst = max(1.0, self.pps / 200)  # at most 5 ms worth at once
        self.tokens = self.burst
        self.t = time.monotonic()
        self.deadline = deadline  # time.monotonic() after which grant() raises TimeoutError
        self.sent = 0

    async def grant(self, want: int = 1) -> int:
        """Wait until at least one packet may go; return how many (1..want) may go now."""
        while True:
            now = time.monotonic()
            if self.deadline is not None and now > self.deadline:
                raise TimeoutError("the sweep ran out of time")
            self.tokens = min(self.burst, self.tokens + (now - self.t) * self.pps)
            self.t = now
            if self.tokens >= 1:
                n = min(want, int(self.tokens))
                self.tokens -= n
                self.sent += n
                return n
            await asyncio.sleep(max((1 - self.tokens) / self.pps, 0.001))
