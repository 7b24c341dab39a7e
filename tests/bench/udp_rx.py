"""Receiver side of the UDP benchmark: 10 paced 10 Mb/s senders (a child process) on loopback,
10 StreamReceivers here; prints receiver CPU as JSON. Bounded: 5 s of traffic."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from server_agent.video.udp.receiver import StreamReceiver
from server_agent.video.udp.url import parse_url
from tests.support import free_port, stop_process

SENDER = """
import socket, sys, time
from server_agent.sim.ts import Clip, Replayer, default_cache_dir, encode_clip
ports = [int(p) for p in sys.argv[1:]]
clip = Clip.load(encode_clip(default_cache_dir(), 10.0))
reps = [Replayer(clip) for _ in ports]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rate = 10e6 / 8; t0 = time.monotonic(); sent = 0; n = 0
while (now := time.monotonic()) - t0 < 5.0:
    due = int((now - t0) * rate / 1316)
    while n < due:
        for r, p in zip(reps, ports):
            s.sendto(r.next_datagram(), ('127.0.0.1', p)); sent += 1
        n += 1
    time.sleep(0.002)
print(sent)
"""


async def main() -> dict[str, float]:
    from server_agent.sim.ts import default_cache_dir, encode_clip

    encode_clip(default_cache_dir(), 10.0)
    ports = [free_port(kind=2) for _ in range(10)]
    rxs = [StreamReceiver([parse_url(f"udp://@127.0.0.1:{p}")]) for p in ports]
    loop = asyncio.get_running_loop()
    for rx in rxs:
        rx.start(loop)
    proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        [sys.executable, "-c", SENDER, *map(str, ports)], stdout=subprocess.PIPE, text=True)
    try:
        c0, w0 = time.process_time(), time.monotonic()
        while proc.poll() is None and time.monotonic() - w0 < 15:
            await asyncio.sleep(0.1)
            for rx in rxs:
                rx.tick()
        cpu, wall = time.process_time() - c0, time.monotonic() - w0
        sent = int((proc.communicate(timeout=10)[0] or "0").strip() or 0)
    finally:
        stop_process(proc)  # type: ignore[arg-type]
        for rx in rxs:
            rx.close()
    return {"cpu_pct": 100 * cpu / wall, "sent": sent,
            "received": sum(rx.datagrams for rx in rxs),
            "cc": sum(rx.analyzer.counts["continuity_count_error"] for rx in rxs)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
