"""A small, bounded UDP/RTP MPEG-TS sender for the lab tests (run it inside a namespace).

    python -m tests.lab.rtp_sender '<json spec>'

The spec: ``{"legs": [{"dest": "232.1.1.1", "port": 5000, "local": "198.51.100.1",
"tos": 184, "drop": [10, 11], "delay_ms": 0}, ...], "count": 600, "pps": 300,
"seq0": 65400, "rtp": true}``. Every leg carries the same datagrams (same RTP sequence numbers
and payload: the simulator's clean, CC-continuous TS clip, 7 packets per datagram); datagram
``i`` leaves leg k at ``i / pps + delay_ms`` seconds, unless ``i`` is in that leg's ``drop``
list (deterministic loss). Bounded: ``count`` datagrams per leg and at most ``max_seconds``
(default 20) of wall time. Prints ``{"sent": [per leg], "seconds": …}`` as JSON.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from typing import Any

from server_agent.sim.ts import Clip, Replayer, default_cache_dir, encode_clip

RTP_PT_MP2T = 33


def datagrams(count: int, seq0: int, rtp: bool) -> list[bytes]:
    rep = Replayer(Clip.load(encode_clip(default_cache_dir(), 3.0)))
    out = []
    for i in range(count):
        payload = bytes(rep.next_datagram())
        if rtp:
            hdr = struct.pack("!BBHII", 0x80, RTP_PT_MP2T, (seq0 + i) & 0xFFFF,
                              (i * 300) & 0xFFFFFFFF, 0x0F1A9C)
            payload = hdr + payload
        out.append(payload)
    return out


def cc_errors_of_drops(dropped: list[bytes]) -> int:
    """Continuity errors that losing these datagrams (one run, in order) must cause: one per
    PID whose payload packets in them are not a multiple of 16 (null packets excepted)."""
    per_pid: dict[int, int] = {}
    for d in dropped:
        for o in range(0, len(d), 188):
            pid = ((d[o + 1] & 0x1F) << 8) | d[o + 2]
            if pid != 0x1FFF and d[o + 3] & 0x10:
                per_pid[pid] = per_pid.get(pid, 0) + 1
    return sum(1 for n in per_pid.values() if n % 16)


def open_leg(leg: dict[str, Any]) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((leg["local"], 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, int(leg.get("tos", 0)))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(leg["local"]))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    return s


def send(spec: dict[str, Any]) -> dict[str, Any]:
    count, pps = int(spec["count"]), float(spec["pps"])
    if not 0 < count <= 100_000 or not 0 < pps <= 20_000:
        raise SystemExit("count must be 1..100000 and pps 1..20000")
    max_s = min(float(spec.get("max_seconds", 20.0)), 60.0)
    legs = spec["legs"]
    data = datagrams(count, int(spec.get("seq0", 0)), bool(spec.get("rtp", True)))
    socks = [open_leg(leg) for leg in legs]
    drops = [{int(i) for i in leg.get("drop", ())} for leg in legs]
    events = sorted((i / pps + float(leg.get("delay_ms", 0)) / 1000, k, i)
                    for k, leg in enumerate(legs) for i in range(count) if i not in drops[k])
    sent = [0] * len(legs)
    t0 = time.monotonic()
    try:
        for due, k, i in events:
            now = time.monotonic() - t0
            if now > max_s:
                break
            if due > now:
                time.sleep(due - now)
            socks[k].sendto(data[i], (legs[k]["dest"], int(legs[k]["port"])))
            sent[k] += 1
    finally:
        for s in socks:
            s.close()
    return {"sent": sent, "seconds": round(time.monotonic() - t0, 3)}


if __name__ == "__main__":
    print(json.dumps(send(json.loads(sys.argv[1]))))
