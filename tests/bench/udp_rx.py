"""Receiver side of the UDP benchmark: 10 paced 10 Mb/s senders (a child process) on loopback,
10 StreamReceivers here; prints receiver CPU as JSON. Bounded: 5 s of traffic (tiny size:
2 streams, 1 s)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from server_agent.video.udp.receiver import StreamReceiver
from server_agent.video.udp.url import parse_url
from tests.bench.report import size
from tests.support import free_port, stop_process

STREAMS, SECONDS = size((10, 5.0), (2, 1.0))  # the sender gets SECONDS as its first argument

SENDER = """
import socket, sys, time
from server_agent.sim.ts import Clip, Replayer, default_cache_dir, encode_clip
secs = float(sys.argv[1]); ports = [int(p) for p in sys.argv[2:]]
clip = Clip.load(encode_clip(default_cache_dir(), 10.0))
reps = [Replayer(clip) for _ in ports]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rate = 10e6 / 8; t0 = time.monotonic(); sent = 0; n = 0
while (now := time.monotonic()) - t0 < secs:
    due = int((now - t0) * rate / 1316)
    while n < due:
        for r, p in zip(reps, ports):
            s.sendto(r.next_datagram(), ('127.0.0.1', p)); sent += 1
        n += 1
    time.sleep(0.002)
print(sent)
"""


async def drive(urls: list[str], sender: str, ports: list[int], limit_s: float
                ) -> tuple[list[StreamReceiver], float, int]:
    """Receive ``urls`` while the ``sender`` child sends to ``ports``, ticking at 10 Hz;
    returns the (closed) receivers, the receiving process's CPU %, and what the child sent."""
    from server_agent.sim.ts import default_cache_dir, encode_clip

    encode_clip(default_cache_dir(), 10.0)
    rxs = [StreamReceiver([parse_url(u)]) for u in urls]
    loop = asyncio.get_running_loop()
    for rx in rxs:
        rx.start(loop)
    proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        [sys.executable, "-c", sender, str(SECONDS), *map(str, ports)], stdout=subprocess.PIPE,
        text=True)
    try:
        c0, w0 = time.process_time(), time.monotonic()
        while proc.poll() is None and time.monotonic() - w0 < limit_s:
            await asyncio.sleep(0.1)
            for rx in rxs:
                rx.tick()
        cpu, wall = time.process_time() - c0, time.monotonic() - w0
        sent = int((proc.communicate(timeout=10)[0] or "0").strip() or 0)
    finally:
        stop_process(proc)  # type: ignore[arg-type]
        for rx in rxs:
            rx.close()
    return rxs, 100 * cpu / wall, sent


async def main() -> dict[str, float]:
    ports = [free_port(kind=2) for _ in range(STREAMS)]
    rxs, cpu_pct, sent = await drive([f"udp://@127.0.0.1:{p}" for p in ports], SENDER, ports,
                                     15)
    return {"cpu_pct": cpu_pct, "sent": sent,
            "received": sum(rx.datagrams for rx in rxs),
            "cc": sum(rx.analyzer.counts["continuity_count_error"] for rx in rxs)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
