"""SRT test support: a paced ffmpeg SRT source, and a small userspace lossy relay for SRT
over loopback (the lab has no tc netem, design §5).

The relay sits between an SRT caller and an SRT listener, forwards every datagram both ways,
and drops chosen SRT *data* packets on the way to the listener: those whose sequence number is
a multiple of ``every``. ``mode="first"`` drops only their first transmission (ARQ recovers
them: lost > 0, retransmitted > 0, dropped 0); ``mode="all"`` drops every transmission (no
latency can save them: dropped > 0 with continuity errors); ``within`` keeps the drops away
from the end of the stream, where a gap has no successor to reveal it. It counts what it
dropped, so the tests compare libsrt's figures with the relay's own count. Bounded: it stops
after ``max_seconds`` by itself.
"""

from __future__ import annotations

import select
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from tests.support import require_binary


def wait_udp_bound(port: int, timeout: float = 20.0) -> None:
    """Wait until some socket listens on UDP ``port`` (an SRT listener in another process):
    a caller started earlier gives up after libsrt's 3 s connect timeout."""
    needle = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
        if any(needle in line.split()[1] + " " for line in lines):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing bound UDP port {port} within {timeout} s")


def ffmpeg_srt(clip: Path, url: str, seconds: float) -> subprocess.Popen[bytes]:
    """A paced TS source over SRT, bounded by -t (ffmpeg's SRT latency is in microseconds)."""
    ffmpeg = require_binary("ffmpeg")
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
         "-i", str(clip), "-t", str(seconds), "-c", "copy", "-f", "mpegts",
         "-pcr_period", "20", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class LossyRelay:
    def __init__(self, target_port: int, every: int, mode: str = "first",
                 max_seconds: float = 60.0, within: int = 10**9) -> None:
        assert mode in ("first", "all")
        self.every = every
        self.within = within  # drop only among the first `within` packets: no tail effects
        self.mode = mode
        self.target = ("127.0.0.1", target_port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = int(self.front.getsockname()[1])
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.client: tuple[str, int] | None = None
        self.deadline = time.monotonic() + max_seconds
        self.dropped_seqs: set[int] = set()
        self.dropped_datagrams = 0
        self.data_forwarded = 0
        self.seen: set[int] = set()
        self.order: list[tuple[int, frozenset[int]]] = []  # first sendings: seq, payload PIDs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LossyRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.front.close()
        self.back.close()

    def _drop(self, data: bytes) -> bool:
        if len(data) < 16 or data[0] & 0x80:
            return False  # control packets always pass
        seq = struct.unpack("!I", data[:4])[0] & 0x7FFFFFFF
        first = seq not in self.seen
        self.seen.add(seq)
        if first:
            self.order.append((seq, payload_pids(data[16:])))
        if self.mode == "all" and seq in self.dropped_seqs:
            self.dropped_datagrams += 1  # a retransmission of a packet that stays lost
            return True
        if seq % self.every or len(self.seen) > self.within:
            return False
        if self.mode == "all" or first:
            self.dropped_seqs.add(seq)
            self.dropped_datagrams += 1
            return True
        return False

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            ready, _, _ = select.select([self.front, self.back], [], [], 0.1)
            for s in ready:
                try:
                    data, addr = s.recvfrom(65536)
                except OSError:
                    continue
                if s is self.front:
                    self.client = addr
                    if self._drop(data):
                        continue
                    if not data[0] & 0x80:
                        self.data_forwarded += 1
                    self.back.sendto(data, self.target)
                elif self.client is not None:
                    self.front.sendto(data, self.client)


def payload_pids(payload: bytes) -> frozenset[int]:
    """PIDs (not the null PID) with a payload-carrying TS packet in this datagram
    (adaptation-only packets keep their CC, so losing them causes no continuity error)."""
    pids = set()
    for i in range(0, len(payload) - 187, 188):
        pkt = payload[i:i + 188]
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        if pkt[0] == 0x47 and pid != 0x1FFF and (pkt[3] >> 4) & 1:
            pids.add(pid)
    return frozenset(pids)


def expected_cc_errors(relay: LossyRelay) -> int:
    """Continuity errors an analyser must count for what the relay destroyed for good: one per
    PID and run of lost packets, and only once a later packet of that PID arrived (two losses
    with no packet of the PID between them are one discontinuity)."""
    errors, open_gap = 0, set[int]()
    for seq, pids in relay.order:
        if seq in relay.dropped_seqs:
            open_gap |= pids
        else:
            errors += len(open_gap & pids)
            open_gap -= pids
    return errors
