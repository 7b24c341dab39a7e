"""Baseline for the live path: a bare websockets server that broadcasts N timestamped samples
every 100 ms to every client, encoding each batch once. What it measures is the floor that
loopback transport, JSON and the 10 Hz tick impose; the agent's figure is compared with it.

``python -m tests.bench.bare_ws_server PORT SERIES``
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    await ws.recv()  # the subscribe message
    CLIENTS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)


async def main(port: int, series: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=2**24):
        loop = asyncio.get_running_loop()
        tick = loop.time()
        while True:
            now = time.time()
            samples = [{"series": "flypack_loadgen_value", "labels": {"series_index": str(i)},
                        "t": now, "v": math.sin(now + i)} for i in range(series)]
            broadcast(CLIENTS, json.dumps({"type": "samples", "t": now, "samples": samples}))
            tick += 0.1
            await asyncio.sleep(max(0.0, tick - loop.time()))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
