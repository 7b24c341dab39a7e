"""The simulated segment as one object: devices, their services, SNMP, streams, faults.

    SimulatedSegment(cfg.sim)
      .device_sections()  -> registry entries, probed through the simulated services
      .streams()          -> contract.Stream entries (udp://@127.77.200.N:port)
      .start() / .stop()  -> snmpsim child process + listeners + stream senders on this loop
      .run()              -> start, serve until cancelled, stop (the agent's "sim" task)
      .faults             -> FaultBook behind /api/v1/sim/faults

:func:`attach_segment` wires it into the agent's :class:`~server_agent.runtime.Services`;
:func:`bind_free_block` binds it on a free 127.x block. The demo runs it in its own process
(``python -m server_agent.sim``, see :mod:`server_agent.sim.process` and ``.control``).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server_agent.config import ConfigError, DeviceSection, SimSection
from server_agent.contract import DeviceRole, SimDeviceInfo, SimFault, SimFaultState, Stream
from server_agent.sim.faults import FaultBook
from server_agent.sim.model import (
    SimDevice,
    build_devices,
    device_section,
    resolve_ports,
    stream_links,
)
from server_agent.sim.services import DeviceServices, base_status
from server_agent.sim.snmp import SnmpSimError, SnmpSimProcess
from server_agent.sim.srt_stats import SimSrtOutput
from server_agent.sim.streamer import StreamSender, run_senders
from server_agent.sim.ts import Clip, ClipError, default_cache_dir, encode_clip

if TYPE_CHECKING:
    from server_agent.runtime import Services
    from server_agent.sim.control import SimControl

log = logging.getLogger("flypack.sim")


class SimError(ConfigError):
    """The segment cannot start (e.g. its ports are taken): a [sim] table this machine cannot
    honour, so the CLI reports it like a configuration error (one line, exit 2)."""


class SimBlockBusy(SimError):
    """The segment's address block is taken (another simulator, or another program holds
    one of its services' ports): :func:`bind_free_block` tries the next block."""

    def __init__(self, message: str, clash: str) -> None:
        super().__init__(message)
        self.clash = clash  # "enc-01 on 127.77.1.1: Address already in use"


class SimulatedSegment:
    def __init__(self, cfg: SimSection, cache_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.ports = resolve_ports(cfg)
        self.devices: list[SimDevice] = build_devices(cfg)
        self.by_name = {d.name: d for d in self.devices}
        self.cache_dir = cache_dir or cfg.cache_dir or default_cache_dir()
        self.faults = FaultBook([*self.by_name, *stream_links(self.devices)],
                                [d.name for d in self.devices if d.stream])
        self.snmp = SnmpSimProcess(cfg, self.devices, self.faults) if cfg.snmp else None
        self.services: dict[str, DeviceServices] = {}
        self.senders: dict[str, StreamSender] = {}
        self.notes: list[str] = []
        self.started = time.time()
        self.restarts: dict[str, tuple[int, float]] = {}  # device -> (count, when)
        self.ready = asyncio.Event()
        self._send_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._clip_ok = self._clip_path().exists() or shutil.which("ffmpeg") is not None
        if not self._clip_ok and cfg.streams:
            self.notes.append("ffmpeg is not installed: the simulated encoders send no "
                              "streams (apt-get install ffmpeg)")
        self.faults.on_change(self._faults_changed)
        self.srt = {d.name: SimSrtOutput(d.name, d.address, self.faults, cfg.stream_mbps)
                    for d in self.devices if d.role is DeviceRole.encoder}  # SRT figures

    def _clip_path(self) -> Path:
        return self.cache_dir / f"clip-{self.cfg.stream_mbps:g}M-10s-v1.ts"

    # --- what the agent registers --------------------------------------------------------

    def device_sections(self) -> list[DeviceSection]:
        return [device_section(d, self.ports) for d in self.devices]

    def streams(self) -> list[Stream]:
        if not self._clip_ok:
            return []
        return [Stream(id=d.stream.id, title=d.stream.title, legs=[d.stream.url],
                       path=d.stream.path()) for d in self.devices if d.stream]

    def device_info(self) -> list[SimDeviceInfo]:
        return [SimDeviceInfo(
            name=d.name, role=d.role, address=d.address, vendor=d.kind.vendor,
            model=d.kind.model, sys_object_id=d.kind.sys_object_id, snmp_port=self.ports.snmp,
            echo_port=self.ports.echo, tcp_port=self.ports.tcp,
            http_port=self.ports.http if d.http else None,
            stream=d.stream.id if d.stream and self._clip_ok else None,
            fault=self.faults.get(d.name)) for d in self.devices]

    # --- the fault API (SimControl: the same calls as RemoteSegment's) ---------------------

    async def list_devices(self) -> list[SimDeviceInfo]:
        return self.device_info()

    async def list_faults(self) -> list[SimFaultState]:
        return self.faults.active()

    async def put_fault(self, device: str, fault: SimFault) -> SimFaultState:
        self.faults.set(device, fault)  # FaultError: unknown device, ts_errors without stream
        await self._settle()
        return SimFaultState(device=device, fault=fault)

    async def clear_faults(self, device: str | None = None) -> None:
        self.faults.clear(device)
        await self._settle()

    async def _settle(self) -> None:
        """Return once the listeners match the faults: the API answers when a fault holds."""
        if self._loop is not asyncio.get_running_loop():
            return  # not started, or served from another loop: it resyncs there
        await asyncio.sleep(0)  # _resync, scheduled by the change, runs first
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def status(self, dev: SimDevice) -> dict[str, Any]:
        st = base_status(dev, self.started)
        sender = self.senders.get(dev.name)
        if sender is not None:
            st["output"] = sender.status()
        if dev.name in self.restarts:
            count, at = self.restarts[dev.name]
            st["output"].update(restarts=count, started_at=at)
        if dev.name in self.srt:
            st["srt"] = self.srt[dev.name].status()
        return st

    def restart_output(self, dev: SimDevice) -> dict[str, Any]:
        """``POST /api/v1/output/restart``: the output starts afresh (counters from 0)."""
        count, _ = self.restarts.get(dev.name, (0, 0.0))
        self.restarts[dev.name] = (count + 1, time.time())
        sender = self.senders.get(dev.name)
        if sender is not None:
            sender.datagrams = sender.bytes_sent = sender.datagrams_lost = 0
        log.info("%s: output restarted (restart %d)", dev.name, count + 1)
        return {"device": dev.name, "restarted": True, "output": self.status(dev)["output"]}

    # --- life cycle ----------------------------------------------------------------------

    def bind(self) -> None:
        """Bind every device's sockets (synchronous; :func:`attach_segment` calls it so that
        a port clash fails the agent's start with a clear message)."""
        for dev in self.devices:
            svc = DeviceServices(dev, self.ports, self.faults, self.status,
                                 restart=self.restart_output)
            try:
                svc.bind()
            except OSError as exc:
                for other in self.services.values():
                    other.close_sockets()
                self.services.clear()
                if exc.errno == errno.EADDRINUSE:
                    raise SimBlockBusy(
                        f"cannot open the simulated services of {dev.name} on {dev.address} "
                        f"({exc.strerror}); is another simulator running? Stop it or change "
                        "the [sim] ports", f"{dev.name} on {dev.address}: {exc.strerror}"
                    ) from None
                raise SimError(f"cannot open the simulated services of {dev.name} on "
                               f"{dev.address} ({exc.strerror}); change the [sim] ports"
                               + (" (ports below 1024 need root)"
                                  if exc.errno == errno.EACCES else "")) from None
            self.services[dev.name] = svc

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            if self.snmp is not None:
                try:
                    self.snmp.start()
                except SnmpSimError as exc:
                    self.notes.append(str(exc))
                    log.error("%s", exc)
                    self.snmp = None
            if not self.services:
                self.bind()
            for svc in self.services.values():
                await svc.start()
            await self._start_streams()
        except BaseException:
            await self.stop()
            raise
        if self.snmp is not None and (why := self.snmp.failed()):
            self.notes.append(why)
        self.ready.set()
        log.info("simulated segment up: %d devices, %d streams, echo udp:%d, tcp:%d, http:%d, "
                 "snmp udp:%s", len(self.devices), len(self.senders), self.ports.echo,
                 self.ports.tcp, self.ports.http, self.ports.snmp)

    async def _start_streams(self) -> None:
        specs = [d for d in self.devices if d.stream]
        if not specs or not self._clip_ok:
            return
        try:
            path = await asyncio.to_thread(encode_clip, self.cache_dir, self.cfg.stream_mbps)
            clip = await asyncio.to_thread(Clip.load, path)
        except ClipError as exc:
            self.notes.append(str(exc))
            log.error("%s", exc)
            return
        for d in specs:
            assert d.stream is not None
            self.senders[d.name] = StreamSender(d.stream, d.address, clip, self.cfg.stream_mbps,
                                                self.faults)
        self._send_task = asyncio.create_task(run_senders(list(self.senders.values())),
                                              name="sim-streams")

    async def stop(self) -> None:
        self.ready.clear()
        task, self._send_task = self._send_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for svc in self.services.values():
            await svc.stop()
        self.services.clear()
        if self.snmp is not None:
            self.snmp.stop()

    async def run(self) -> None:
        """The agent's background task: serve until cancelled. A segment that cannot start
        logs why once and stays off (no restart loop)."""
        try:
            await self.start()
        except SimError as exc:
            self.notes.append(str(exc))
            log.error("simulated segment not started: %s", exc)
            return
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def _faults_changed(self) -> None:
        # may be called from any thread; listeners open and close on the segment's loop
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._resync)

    def _resync(self) -> None:
        for svc in self.services.values():
            if svc.faults.get(svc.dev.name).down != (svc.tcp is None):
                task = asyncio.ensure_future(svc.sync())
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)


def bind_free_block(cfg: SimSection, blocks: int = 1,
                    cache_dir: Path | None = None) -> SimulatedSegment:
    """A segment bound on ``cfg.base_address`` or, when that block is taken, on the next free
    one of ``blocks`` consecutive 127.x.0.0 blocks (so that two demos can run side by side).
    Raises :class:`SimError` saying why when none is free or a port cannot be opened at all."""
    first = int(ipaddress.IPv4Address(cfg.base_address)) >> 16  # 127.X as one number
    last = min(first + max(1, blocks) - 1, first | 0xFF)  # never past 127.255
    taken: list[str] = []
    for block in range(first, last + 1):
        base = str(ipaddress.IPv4Address(block << 16))
        seg = SimulatedSegment(cfg.model_copy(update={"base_address": base}), cache_dir)
        try:
            seg.bind()
        except SimBlockBusy as exc:
            taken.append(exc.clash)
            continue
        if taken:
            seg.notes.append(f"{cfg.base_address} is taken (another simulator?): this segment "
                             f"is on {base} (devices 127.{block & 0xFF}.x.y)")
        return seg
    span = cfg.base_address if first == last else \
        f"{cfg.base_address} to {ipaddress.IPv4Address(last << 16)}"
    raise SimError(f"no free address block for the simulated segment: {span} "
                   f"{'is' if first == last else 'are all'} in use (first clash: {taken[0]}); "
                   "stop another demo or simulator, or pick a free 127.X.0.0 block")


def attach_segment(svc: Services, seg: SimControl | None = None) -> SimControl:
    """Register the simulated devices and streams with the agent and run the segment: in this
    process (``[sim] enabled``), or the demo's simulator process behind a RemoteSegment."""
    if seg is None:
        local = SimulatedSegment(svc.config.sim)
        local.bind()
        seg = local
    for section in seg.device_sections():
        svc.devices.add(section)
    svc.streams.extend(seg.streams())
    svc.tasks["sim"] = seg.run
    svc.closers.append(seg.stop)
    svc.sim = seg
    return seg
