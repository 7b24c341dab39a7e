"""StreamService: the streams the agent analyses, from the config (``[[streams]]``), the API
(persisted) and the simulated segment; each analysed live at 10 Hz.

    StreamService.run() ─ every 100 ms ─► LiveStream.tick() ─► bus samples (metrics, WS)
                          every 1 s ─► paths: PathTracker per stream ─► hop states, hop_ok
                                        └─► held device alarms (AlarmEngine.hold_devices)
    stream rules + path ─► paths.stream_alarms() ─► raise / clear the difference ─► AlarmEngine
Config and simulator streams are read-only through the API (edit the file / the simulator).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from server_agent.alarms.engine import AlarmEngine
from server_agent.config import AgentConfig
from server_agent.contract import (
    Device,
    HopStatus,
    PathHop,
    Severity,
    Stream,
    StreamPatch,
    StreamSpec,
)
from server_agent.live.bus import LiveBus, Sample, sample
from server_agent.store.db import Database
from server_agent.video import metric_defs as m
from server_agent.video.paths import (
    AlarmWish,
    PathResult,
    PathTracker,
    StreamFigures,
    held_devices,
    stream_alarms,
    validate_path,
)
from server_agent.video.streams.errors import StreamExists, StreamNotFound, StreamReadOnly
from server_agent.video.streams.settings import check_thresholds
from server_agent.video.streams.store import StreamStore
from server_agent.video.udp.url import parse_url

if TYPE_CHECKING:  # the analyzer (numpy, ~20 MB) loads only once a stream exists
    from server_agent.discovery.registry import DeviceRegistry
    from server_agent.video.streams.live import LiveStream

log = logging.getLogger("flypack.streams")
TICK_S = 0.1
PATH_EVERY_S = 1.0
HOLD_MARGIN_S = 2.0  # a failing hop outlives the stream rules it explains by this much
_Samples = list[Sample]  # (inside the class, `list` is the method below)
_Hops = list[HopStatus]
_RANK = {Severity.warning: 0, Severity.minor: 1, Severity.major: 2, Severity.critical: 3}


class StreamService:
    def __init__(self, config: AgentConfig, db: Database, bus: LiveBus,
                 alarms: AlarmEngine | None, extra: list[Stream] | None = None,
                 devices: DeviceRegistry | None = None,
                 secrets: Callable[[str], str | None] | None = None) -> None:
        self.flypack = config.agent.flypack
        self.secrets = secrets  # the credential store, for srt:// passphrase_ref=
        self.devices = devices  # the registry that path device hops name
        self._trackers: dict[str, PathTracker] = {}
        self._results: dict[str, PathResult] = {}
        self._raised: dict[str, dict[str, AlarmWish]] = {}  # stream -> alarm key -> raised
        self._paths_at = 0.0
        self.bus = bus
        self.alarms = alarms
        self.clear_after_s = config.alarms.clear_after_s
        self.store = StreamStore(db)
        self.streams: dict[str, LiveStream] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        for sec in config.streams:
            self._add(StreamSpec.model_validate(sec.model_dump()), "config")
        for st in extra or []:
            if st.id not in self.streams:
                self._add(StreamSpec(id=st.id, title=st.title, legs=st.legs, path=[
                    PathHop(name=h.name, kind=h.kind, device=h.device, leg=h.leg)
                    for h in st.path]), "sim")
        for spec in self.store.all():
            if spec.id not in self.streams:
                self._add(spec, "api")

    def _add(self, spec: StreamSpec, source: str) -> LiveStream:
        from server_agent.video.streams.live import LiveStream

        ls = self.streams[spec.id] = LiveStream(spec, source, self.clear_after_s,
                                                secrets=self.secrets)
        if self._loop is not None:
            ls.open(self._loop)
        return ls

    # --- queries and changes (the API calls these) ----------------------------------------

    def list(self) -> list[Stream]:
        return [self._view(ls) for ls in self.streams.values()]

    def get(self, stream_id: str) -> Stream:
        return self._view(self._find(stream_id))

    def create(self, spec: StreamSpec) -> Stream:
        self._validate(spec)
        if spec.id in self.streams:
            raise StreamExists(f"a stream {spec.id!r} exists already")
        self.store.put(spec, time.time())
        return self._view(self._add(spec, "api"))

    def patch(self, stream_id: str, patch: StreamPatch) -> Stream:
        ls = self._writable(stream_id)
        spec = StreamSpec.model_validate({**ls.spec.model_dump(),
                                          **patch.model_dump(exclude_unset=True)})
        self._validate(spec)
        self.store.put(spec, time.time())
        self._remove(stream_id)
        return self._view(self._add(spec, "api"))

    def delete(self, stream_id: str) -> None:
        self._writable(stream_id)
        self.store.delete(stream_id)
        self._remove(stream_id)

    def _find(self, stream_id: str) -> LiveStream:
        ls = self.streams.get(stream_id)
        if ls is None:
            raise StreamNotFound(f"no stream {stream_id!r}")
        return ls

    def _writable(self, stream_id: str) -> LiveStream:
        ls = self._find(stream_id)
        if ls.source != "api":
            where = "the agent's config file" if ls.source == "config" else "the simulator"
            raise StreamReadOnly(f"stream {stream_id!r} is defined in {where}; change it there")
        return ls

    def _remove(self, stream_id: str) -> None:
        ls = self.streams.pop(stream_id, None)
        if ls is not None:
            ls.close()
            ls.active.clear()
            self._trackers.pop(stream_id, None)
            self._results.pop(stream_id, None)
            self._reconcile(ls, time.time())
            self._raised.pop(stream_id, None)

    def _view(self, ls: LiveStream) -> Stream:
        an = ls.rx.analyzer if ls.rx is not None else None
        receiving = ls.rx is not None and ls.rx.datagrams > 0
        return Stream(
            id=ls.spec.id, title=ls.spec.title or ls.spec.id, legs=list(ls.spec.legs),
            state="alarm" if ls.active else ("ok" if receiving else "unknown"),
            source=ls.source,  # type: ignore[arg-type]
            expected_dscp=ls.spec.expected_dscp, bitrate_min_bps=ls.spec.bitrate_min_bps,
            bitrate_max_bps=ls.spec.bitrate_max_bps, buffer_ms=ls.spec.buffer_ms,
            tr101290_settings=dict(ls.spec.tr101290), bitrate_bps=ls.bitrate_bps,
            tr101290=dict(an.counts) if an is not None else {},
            leg_status=ls.leg_status(),
            dual_path=ls.rx.dual.as_dict() if ls.rx is not None and ls.rx.dual else None,
            alarms=sorted(ls.active), path=self._path_view(ls),
            first_failing_hop=(r.first_failing if (r := self._results.get(ls.spec.id))
                               else None))

    def _path_view(self, ls: LiveStream) -> _Hops:
        res = self._results.get(ls.spec.id)
        if res is not None:
            return [*res.hops]
        return [HopStatus(name=h.name, kind=h.kind, device=h.device, leg=h.leg,
                          reasons=["not judged yet"]) for h in ls.spec.path]

    # --- the 10 Hz loop ---------------------------------------------------------------------

    async def run(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        for ls in self.streams.values():
            ls.open(loop)
            for hop in ls.spec.path:  # (config paths are read before devices are known)
                if self.devices is not None and hop.device and not self._lookup(hop.device):
                    log.warning("stream %s: path hop %r names device %r, which the agent "
                                "does not know (yet); the hop shows as unknown", ls.spec.id,
                                hop.name, hop.device)
        try:
            while True:
                await asyncio.sleep(TICK_S)
                self.tick(time.time())
        finally:
            for ls in self.streams.values():
                ls.close()
            self._loop = None

    def tick(self, now: float) -> None:
        for ls in list(self.streams.values()):
            if ls.rx is None:
                if ls.error and now >= ls.retry_at and self._loop is not None:
                    ls.open(self._loop)
                continue
            try:
                self.bus.publish(ls.tick(self.flypack, now))
            except Exception:
                log.exception("stream %s: analysis failed; skipped this tick", ls.spec.id)
                continue
            if ls.transitions:
                self._reconcile(ls, now)
            ls.transitions = []
        if now - self._paths_at >= PATH_EVERY_S:
            self._paths_at = now
            try:
                self._judge_paths(now)
            except Exception:  # never let the paths take the stream analysis down
                log.exception("stream paths not judged; skipped this second")

    # --- paths and alarms -------------------------------------------------------------------

    def _judge_paths(self, now: float) -> None:
        out: _Samples = []
        for ls in list(self.streams.values()):
            sid = ls.spec.id
            if ls.spec.path:
                fig = StreamFigures(
                    legs=ls.leg_status(), active=dict(ls.active), error=ls.error,
                    counts=dict(ls.rx.analyzer.counts) if ls.rx is not None else {})
                tracker = self._trackers.setdefault(sid, PathTracker(
                    self.clear_after_s + HOLD_MARGIN_S))
                try:
                    res = self._results[sid] = tracker.evaluate(ls.spec.path, fig,
                                                                self._lookup, now)
                except Exception:
                    log.exception("stream %s: path not judged; skipped this second", sid)
                    continue
                for h in res.hops:
                    v = None if h.state == "unknown" else float(h.state == "ok")
                    out.append(sample(m.STREAM_HOP_OK.name, {
                        "flypack": self.flypack, "stream": sid, "hop": h.name}, v, now))
            self._reconcile(ls, now)
        self.bus.publish(out)
        if self.alarms is not None:
            self.alarms.hold_devices(held_devices(dict(self._results)), now)

    def _lookup(self, ref: str) -> Device | None:
        if self.devices is None:
            return None
        dev = self.devices.get(ref)
        if dev is None:
            dev = next((d for d in self.devices.snapshot() if d.name == ref), None)
        return dev

    def _reconcile(self, ls: LiveStream, t: float) -> None:
        """Raise and clear the difference between the alarms the stream should have (its own
        rules, or one alarm naming the first failing hop upstream) and those it has."""
        if self.alarms is None:
            return
        from server_agent.video.streams.live import RULES

        sid = ls.spec.id
        have = self._raised.get(sid)
        if have is None:  # alarms left active by an earlier run are judged afresh
            have = self._raised[sid] = {a.key: AlarmWish(a.rule, a.severity, a.message)
                                        for a in self.alarms.active()
                                        if a.key.startswith(f"stream/{sid}/")}
        want = stream_alarms(sid, ls.spec.title or sid, self._results.get(sid), ls.active,
                             RULES)
        for key in [k for k in have if k not in want]:
            self.alarms.clear_alarm(key, t)
            del have[key]
        for key, w in want.items():
            if key in have and _RANK[w.severity] > _RANK[have[key].severity]:
                self.alarms.clear_alarm(key, t)  # escalates: raised again, more severe
                del have[key]
            if key not in have:
                self.alarms.raise_alarm(key, w.rule, w.severity, w.message, t, stream=sid,
                                        device=w.device)
                have[key] = w

    def _validate(self, spec: StreamSpec) -> None:
        for u in spec.legs:
            parse_url(u)
        check_thresholds(spec.tr101290)
        reg = self.devices
        validate_path(spec.path, len(spec.legs),
                      known=None if reg is None else lambda ref: self._lookup(ref) is not None,
                      names=None if reg is None else lambda: [d.name for d in reg.snapshot()])
