"""Receiver side of the SRT benchmark: 5 paced 10 Mb/s SRT callers (a child process, flypack's
own libsrt binding as sender) on loopback, 5 StreamReceivers with srt:// listener legs here
(receive thread + 10 Hz stats + TS analysis); prints receiver CPU as JSON. Bounded: 5 s
(tiny size: 2 callers, 1 s)."""

from __future__ import annotations

import asyncio
import json

from server_agent.video.srt.leg import SrtLeg
from tests.bench.report import size
from tests.bench.udp_rx import drive
from tests.support import free_port

STREAMS = size(5, 2)

SENDER = """
import sys, time
from server_agent.sim.ts import Clip, Replayer, default_cache_dir, encode_clip
from server_agent.video.srt import lib
from server_agent.video.srt.conn import Endpoint, SrtConnection
secs = float(sys.argv[1]); ports = [int(p) for p in sys.argv[2:]]
clip = Clip.load(encode_clip(default_cache_dir(), 10.0))
srt = lib.load()
conns = [SrtConnection(srt, Endpoint('127.0.0.1', p, 'caller', 120, None, sender=True))
         for p in ports]
for c in conns:
    c.start()
t1 = time.monotonic() + 5
while any(c.state != 'connected' for c in conns) and time.monotonic() < t1:
    time.sleep(0.05)
reps = [Replayer(clip) for _ in ports]
rate = 10e6 / 8; t0 = time.monotonic(); sent = 0; n = 0
while (now := time.monotonic()) - t0 < secs:
    due = int((now - t0) * rate / 1316)
    while n < due:
        for r, c in zip(reps, conns):
            sent += c.send(bytes(r.next_datagram()))
        n += 1
    time.sleep(0.002)
time.sleep(0.3)
for c in conns:
    c.close()
print(sent)
"""


async def main() -> dict[str, float]:
    ports = [free_port(kind=2) for _ in range(STREAMS)]
    rxs, cpu_pct, sent = await drive([f"srt://127.0.0.1:{p}?mode=listener" for p in ports],
                                     SENDER, ports, 20)
    legs = [leg for rx in rxs for leg in rx.legs if isinstance(leg, SrtLeg)]
    return {"cpu_pct": cpu_pct, "sent": sent,
            "received": sum(f.received for leg in legs for f in leg.figures[:1]),
            "dropped": sum(f.dropped for leg in legs for f in leg.figures[:1]),
            "cc": sum(rx.analyzer.counts["continuity_count_error"] for rx in rxs)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
