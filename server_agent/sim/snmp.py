"""SNMP for the simulated devices: generated ``.snmprec`` data served by one snmpsim process.

    run dir (a fresh temp dir, removed on stop)
      data/public.snmprec                      community 'public' (fallback: a bare sysName)
      data/public/1.3.6.1.6.1.1.<N>.snmprec    device N: the N-th --agent-udpv4-endpoint
      faults.json                              {"1.3.6.1.6.1.1.<N>": {"down": .., "loss": ..}}
      variation/numeric.py                     only the variation module we use
      cache/, snmpsim.log

Counters (sysUpTime, ifIn/OutOctets, ifHCIn/OutOctets) grow with snmpsim's ``numeric``
variation module. The process runs ``server_agent.sim.snmpsim_compat`` (see there for why) and
is stopped by its PID.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from server_agent.children import stop_child
from server_agent.config import SimSection
from server_agent.contract import DeviceRole
from server_agent.sim.faults import FaultBook
from server_agent.sim.model import SimDevice

log = logging.getLogger("flypack.sim.snmp")

TRANSPORT = "1.3.6.1.6.1.1"
SYS = "1.3.6.1.2.1.1"
IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"


class SnmpSimError(RuntimeError):
    """snmpsim is missing or did not start; the message says what to do."""


def _ifnames(dev: SimDevice) -> tuple[str, str]:
    if dev.role is DeviceRole.router:
        return ("GigabitEthernet0/0/0", "GigabitEthernet0/0/1")
    if dev.role is DeviceRole.switch:
        return ("Ethernet1", "Ethernet2")
    return ("eth0", "eth1")


def snmprec(dev: SimDevice, index: int) -> str:
    """The device's data file: system group, ifTable and ifXTable for two interfaces."""
    seed = zlib.crc32(dev.name.encode())
    media_bps = 3_000_000 if dev.stream else 40_000 + seed % 400_000
    recs: list[tuple[str, str, str]] = [
        (f"{SYS}.1.0", "4", dev.sys_descr),
        (f"{SYS}.2.0", "6", dev.kind.sys_object_id),
        (f"{SYS}.3.0", "67:numeric", f"rate=100,initial={(seed % 864_000) * 100}"),
        (f"{SYS}.4.0", "4", "flypack NOC <noc@flypack.invalid>"),
        (f"{SYS}.5.0", "4", dev.name),
        (f"{SYS}.6.0", "4", dev.location),
        (f"{SYS}.7.0", "2", "6" if dev.role in (DeviceRole.router, DeviceRole.switch) else "72"),
        ("1.3.6.1.2.1.2.1.0", "2", "2"),
    ]
    rates = (media_bps, 8_000)
    for ifindex, (ifname, rate) in enumerate(zip(_ifnames(dev), rates, strict=True), 1):
        in_rate, out_rate = (rate // 80, rate // 8) if dev.role is DeviceRole.encoder else (
            rate // 8, rate // 80)
        mac = f"0277{index >> 8:02x}{index & 255:02x}{ifindex:02x}{seed & 255:02x}"
        start = seed * ifindex % 10**9
        recs += [
            (f"{IF}.1.{ifindex}", "2", str(ifindex)),
            (f"{IF}.2.{ifindex}", "4", ifname),
            (f"{IF}.3.{ifindex}", "2", "6"),
            (f"{IF}.4.{ifindex}", "2", "1500"),
            (f"{IF}.5.{ifindex}", "66", "1000000000"),
            (f"{IF}.6.{ifindex}", "4x", mac),
            (f"{IF}.7.{ifindex}", "2", "1"),
            (f"{IF}.8.{ifindex}", "2", "1"),
            (f"{IF}.9.{ifindex}", "67", "0"),
            (f"{IF}.10.{ifindex}", "65:numeric", f"rate={in_rate},initial={start},wrap=1"),
            (f"{IF}.16.{ifindex}", "65:numeric", f"rate={out_rate},initial={start},wrap=1"),
            (f"{IFX}.1.{ifindex}", "4", ifname),
            (f"{IFX}.6.{ifindex}", "70:numeric", f"rate={in_rate},initial={start}"),
            (f"{IFX}.10.{ifindex}", "70:numeric", f"rate={out_rate},initial={start}"),
            (f"{IFX}.15.{ifindex}", "66", "1000"),
            (f"{IFX}.18.{ifindex}", "4", "media" if ifindex == 1 else "management"),
        ]
    recs.sort(key=lambda r: tuple(int(x) for x in r[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in recs)


class SnmpSimProcess:
    """One snmpsim process serving every device on ``address:port``; faults via a JSON file."""

    def __init__(self, cfg: SimSection, devices: list[SimDevice], faults: FaultBook) -> None:
        self.port = cfg.snmp_port
        self.devices = devices
        self.faults = faults
        self.proc: subprocess.Popen[bytes] | None = None
        self.run_dir: Path | None = None
        self._domains = {d.name: f"{TRANSPORT}.{i}" for i, d in enumerate(devices)}

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _write_faults(self) -> None:
        if self.run_dir is None:
            return
        data = {}
        for name, domain in self._domains.items():
            f = self.faults.get(name)
            if f.down or f.loss_ratio > 0:
                data[domain] = {"down": f.down, "loss": f.loss_ratio}
        tmp = self.run_dir / "faults.json.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(self.run_dir / "faults.json")

    def prepare(self) -> Path:
        run = Path(tempfile.mkdtemp(prefix="flypack-snmpsim-"))
        self.run_dir = run
        (run / "data" / "public").mkdir(parents=True)
        (run / "cache").mkdir()
        (run / "data" / "public.snmprec").write_text("1.3.6.1.2.1.1.5.0|4|flypack-sim\n")
        for i, dev in enumerate(self.devices):
            (run / "data" / "public" / f"{TRANSPORT}.{i}.snmprec").write_text(snmprec(dev, i))
        import snmpsim

        (run / "variation").mkdir()
        shutil.copy(Path(snmpsim.__file__).parent / "variation" / "numeric.py",
                    run / "variation" / "numeric.py")
        (run / "args").write_text("".join(
            f"--agent-udpv4-endpoint={d.address}:{self.port}\n" for d in self.devices))
        self._write_faults()
        self.faults.on_change(self._write_faults)
        return run

    def start(self) -> None:
        try:
            import pysmi  # noqa: F401
            import snmpsim  # noqa: F401
        except ImportError as exc:
            raise SnmpSimError(f"snmpsim/pysmi are not installed ({exc}); install the agent "
                               "extra: pip install 'flypack[agent]'") from None
        run = self.prepare()
        args = [sys.executable, "-m", "server_agent.sim.snmpsim_compat",
                "--faults", str(run / "faults.json"),
                f"--data-dir={run / 'data'}", f"--cache-dir={run / 'cache'}",
                f"--variation-modules-dir={run / 'variation'}",
                f"--args-from-file={run / 'args'}", "--log-level=error"]
        env = dict(os.environ)
        # as root snmpsim insists on dropping to a user; 'nobody' cannot read an interpreter
        # that lives in root's home (pyenv), so let it run as is: it binds loopback only and
        # reads files we generated.
        env["SNMPSIM_ALLOW_ROOT"] = "true"
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")) if p)
        with (run / "snmpsim.log").open("wb") as logf:
            self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, cwd=run)
        log.info("snmpsim (pid %d) serving %d devices on UDP port %d", self.proc.pid,
                 len(self.devices), self.port)

    def failed(self) -> str | None:
        """Why the process has exited, or None while it runs."""
        if self.proc is None or self.proc.poll() is None:
            return None
        tail = ""
        if self.run_dir and (self.run_dir / "snmpsim.log").exists():
            tail = (self.run_dir / "snmpsim.log").read_text(errors="replace")[-600:]
        return f"snmpsim exited with {self.proc.returncode}: {tail.strip()}"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_child(proc, 5)
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
