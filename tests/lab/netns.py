"""Network-namespace lab fixtures (design §5): namespaces, veths and processes this test owns.

    with Lab("disc") as lab:
        lab.ns("scan"); lab.bridge("scan", "br0", "198.51.100.1/24")
        lab.host("enc", "198.51.100.10/24", bridge=("scan", "br0"))
        proc = lab.spawn("enc", ["snmpd", "-f", ...])
    # every process stopped by its PID, every namespace deleted, also on failure

Only lab ranges (198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15) are used, and no namespace
has a route out of the lab.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import TracebackType

from tests.support import stop_process

LAB_NETS = ("198.51.100.", "203.0.113.", "198.18.", "198.19.")


def _check_lab(cidr: str) -> None:
    if not cidr.startswith(LAB_NETS):
        raise ValueError(f"{cidr} is not a lab address (design §5)")


class Lab:
    def __init__(self, tag: str) -> None:
        self.prefix = f"fp{tag}{os.getpid() % 100000}"
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self._links = 0

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for p in reversed(self.procs):
            try:
                stop_process(p, timeout=5)
            except Exception:
                pass
        self.procs.clear()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self.namespaces.clear()

    def name(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    def run(self, short: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", self.name(short), *cmd], text=True,
                              capture_output=True, check=check, timeout=60)

    def ip(self, short: str, *args: str) -> None:
        self.run(short, "ip", *args)

    def ns(self, short: str) -> str:
        name = self.name(short)
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        self.namespaces.append(name)
        self.ip(short, "link", "set", "lo", "up")
        return name

    def sysctl(self, short: str, key: str, value: str) -> None:
        self.run(short, "sysctl", "-q", "-w", f"{key}={value}")

    def bridge(self, short: str, br: str, cidr: str) -> None:
        _check_lab(cidr)
        self.ip(short, "link", "add", br, "type", "bridge")
        self.ip(short, "addr", "add", cidr, "dev", br)
        self.ip(short, "link", "set", br, "up")

    def link(self, a: str, b: str, cidr_b: str | None = None, bridge_a: str | None = None,
             cidr_a: str | None = None) -> tuple[str, str]:
        """A veth pair between namespaces a and b; returns (name in a, name in b)."""
        self._links += 1
        va, vb = f"va{self._links}", f"vb{self._links}"
        subprocess.run(["ip", "link", "add", va, "netns", self.name(a), "type", "veth", "peer",
                        "name", vb, "netns", self.name(b)], check=True, capture_output=True)
        if bridge_a:
            self.ip(a, "link", "set", va, "master", bridge_a)
        if cidr_a:
            _check_lab(cidr_a)
            self.ip(a, "addr", "add", cidr_a, "dev", va)
        if cidr_b:
            _check_lab(cidr_b)
            self.ip(b, "addr", "add", cidr_b, "dev", vb)
        self.ip(a, "link", "set", va, "up")
        self.ip(b, "link", "set", vb, "up")
        return va, vb

    def host(self, short: str, cidr: str, bridge: tuple[str, str],
             gateway: str | None = None) -> str:
        """A namespace with one address, plugged into ``bridge`` = (namespace, bridge name)."""
        self.ns(short)
        _, vb = self.link(bridge[0], short, cidr_b=cidr, bridge_a=bridge[1])
        if gateway:
            _check_lab(gateway)
            self.ip(short, "route", "add", "default", "via", gateway)
        return vb

    def spawn(self, short: str, cmd: list[str], log: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = log.open("wb") if log else subprocess.DEVNULL
        p = subprocess.Popen(["ip", "netns", "exec", self.name(short), *cmd], stdout=out,
                             stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.procs.append(p)
        return p
