"""N WebSocket clients in one process; prints sample ages (ms) as JSON when done.

Run as a separate process so the clients do not share a CPU core's time with the server under
test more than they must: ``python -m tests.bench.ws_clients URL TOKEN N SECONDS WARMUP``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect


async def client(url: str, token: str, seconds: float, warmup: float, ages: list[float],
                 counters: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(url, additional_headers=headers, max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "subscribe", "series": ["flypack_loadgen_*"]}))
        t_start = time.monotonic() + warmup
        t_end = t_start + seconds
        while (now := time.monotonic()) < t_end:
            try:
                raw = await asyncio.wait_for(ws.recv(), t_end - now)
            except TimeoutError:
                break
            msg = json.loads(raw)
            recv = time.time()
            if time.monotonic() < t_start:
                continue
            if msg["type"] == "samples":
                counters["batches"] += 1
                for s in msg["samples"]:
                    ages.append((recv - s["t"]) * 1000)
            elif msg["type"] == "overflow":
                counters["dropped"] += msg["dropped"]


async def main(url: str, token: str, n: int, seconds: float, warmup: float) -> None:
    ages: list[float] = []
    counters = {"batches": 0, "dropped": 0}
    await asyncio.gather(*(client(url, token, seconds, warmup, ages, counters)
                           for _ in range(n)))
    print(json.dumps({"ages_ms": ages, **counters}))


if __name__ == "__main__":
    u, tok, n, secs, warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \
        float(sys.argv[5])
    asyncio.run(main(u, tok, n, secs, warm))
