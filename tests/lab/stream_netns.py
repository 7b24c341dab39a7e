"""Lab network namespaces for the stream tests (design §5): a sender namespace and a receiver
namespace joined by two veth pairs, one per ST 2022-7 leg. Both ends sit inside namespaces the
test creates, with documentation addresses only and no default route, so nothing leaves the lab.

    tx namespace                          rx namespace
    leg 1  fp1t<id> 198.51.100.1/24 ───── fp1r<id> 198.51.100.2/24
    leg 2  fp2t<id> 203.0.113.1/24  ───── fp2r<id> 203.0.113.2/24
    multicast (224.0.0.0/4) routed on leg 1 in both namespaces

Everything is removed when the fixture ends (deleting a namespace deletes its veths), also on
failure. (tests/lab/netns.py is the discovery lab's general-purpose helper.)
"""

from __future__ import annotations

import ctypes
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support import require_binary, require_root

CLONE_NEWNET = 0x40000000
SUBNETS = ("198.51.100", "203.0.113")


def ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")


@dataclass
class Leg:
    tx_if: str
    rx_if: str
    tx_ip: str
    rx_ip: str


@dataclass
class StreamLab:
    tx: str
    rx: str
    legs: list[Leg] = field(default_factory=list)

    @classmethod
    def create(cls) -> StreamLab:
        uid = secrets.token_hex(3)
        lab = cls(f"fp-tx-{uid}", f"fp-rx-{uid}")
        try:
            for ns in (lab.tx, lab.rx):
                ip("netns", "add", ns)
                ip("-n", ns, "link", "set", "lo", "up")
            for k, net in enumerate(SUBNETS, 1):
                leg = Leg(f"fp{k}t{uid}", f"fp{k}r{uid}", f"{net}.1", f"{net}.2")
                ip("-n", lab.tx, "link", "add", leg.tx_if, "type", "veth", "peer", "name",
                   leg.rx_if, "netns", lab.rx)
                for ns, dev, addr in ((lab.tx, leg.tx_if, leg.tx_ip),
                                      (lab.rx, leg.rx_if, leg.rx_ip)):
                    ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                    ip("-n", ns, "link", "set", dev, "up")
                lab.legs.append(leg)
            for ns in (lab.tx, lab.rx):
                ip("-n", ns, "route", "add", "224.0.0.0/4", "dev",
                   lab.legs[0].tx_if if ns == lab.tx else lab.legs[0].rx_if)
        except BaseException:
            lab.close()
            raise
        return lab

    def close(self) -> None:
        for ns in (self.tx, self.rx):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)

    def exec(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def igmp_groups(self) -> str:
        """/proc/net/igmp and /proc/net/mcfilter as the receiver namespace sees them."""
        r = subprocess.run(self.exec(self.rx, "cat", "/proc/net/igmp", "/proc/net/mcfilter"),
                           capture_output=True, text=True, timeout=10)
        return r.stdout


def stream_lab() -> Iterator[StreamLab]:
    """For a fixture (``yield from stream_lab()``): two fresh namespaces joined by two veth
    pairs, removed afterwards."""
    require_root("creates network namespaces")
    require_binary("ip")
    require_binary("ffmpeg")  # the sender's clip is encoded once (tests/lab/rtp_sender.py)
    lab = StreamLab.create()
    try:
        yield lab
    finally:
        lab.close()


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the block in namespace ``name`` (this thread only): sockets created inside stay in
    it after the block; the thread is back in its own namespace afterwards, also on error."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(there)
        try:
            yield
        finally:
            _setns(here)
    finally:
        os.close(here)
        os.close(there)
