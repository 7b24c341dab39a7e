"""StreamService: the streams the agent analyses, from the config (``[[streams]]``), the API
(persisted) and the simulated segment; each analysed live at 10 Hz.

    StreamService.run() ─ every 100 ms ─► LiveStream.tick() ─► bus samples (metrics, WS)
                                                        └──► alarm transitions ─► AlarmEngine
Config and simulator streams are read-only through the API (edit the file / the simulator).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from server_agent.alarms.engine import AlarmEngine
from server_agent.config import AgentConfig
from server_agent.contract import Stream, StreamPatch, StreamSpec
from server_agent.live.bus import LiveBus
from server_agent.store.db import Database
from server_agent.video.streams.errors import StreamExists, StreamNotFound, StreamReadOnly
from server_agent.video.streams.settings import check_thresholds
from server_agent.video.streams.store import StreamStore
from server_agent.video.udp.url import parse_url

if TYPE_CHECKING:  # the analyzer (numpy, ~20 MB) loads only once a stream exists
    from server_agent.video.streams.live import LiveStream

log = logging.getLogger("flypack.streams")
TICK_S = 0.1


class StreamService:
    def __init__(self, config: AgentConfig, db: Database, bus: LiveBus,
                 alarms: AlarmEngine | None, extra: list[Stream] | None = None) -> None:
        self.flypack = config.agent.flypack
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
                self._add(StreamSpec(id=st.id, title=st.title, legs=st.legs), "sim")
        for spec in self.store.all():
            if spec.id not in self.streams:
                self._add(spec, "api")

    def _add(self, spec: StreamSpec, source: str) -> LiveStream:
        from server_agent.video.streams.live import LiveStream

        ls = self.streams[spec.id] = LiveStream(spec, source, self.clear_after_s)
        if self._loop is not None:
            ls.open(self._loop)
        return ls

    # --- queries and changes (the API calls these) ----------------------------------------

    def list(self) -> list[Stream]:
        return [self._view(ls) for ls in self.streams.values()]

    def get(self, stream_id: str) -> Stream:
        return self._view(self._find(stream_id))

    def create(self, spec: StreamSpec) -> Stream:
        _validate(spec)
        if spec.id in self.streams:
            raise StreamExists(f"a stream {spec.id!r} exists already")
        self.store.put(spec, time.time())
        return self._view(self._add(spec, "api"))

    def patch(self, stream_id: str, patch: StreamPatch) -> Stream:
        ls = self._writable(stream_id)
        spec = ls.spec.model_copy(update=patch.model_dump(exclude_unset=True))
        spec = StreamSpec.model_validate(spec.model_dump())
        _validate(spec)
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
            for rule in list(ls.active):
                self._alarm("clear", ls, rule, "", time.time())

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
            alarms=sorted(ls.active))

    # --- the 10 Hz loop ---------------------------------------------------------------------

    async def run(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        for ls in self.streams.values():
            ls.open(loop)
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
            for what, rule, msg in ls.transitions:
                self._alarm(what, ls, rule, msg, now)
            ls.transitions = []

    def _alarm(self, what: str, ls: LiveStream, rule: str, msg: str, t: float) -> None:
        if self.alarms is None:
            return
        key = f"stream/{ls.spec.id}/{rule}"
        if what == "raise":
            from server_agent.video.streams.live import RULES

            self.alarms.raise_alarm(key, f"stream_{rule}", RULES[rule],
                                    f"{ls.spec.title or ls.spec.id}: {msg}", t,
                                    stream=ls.spec.id)
        else:
            self.alarms.clear_alarm(key, t)


def _validate(spec: StreamSpec) -> None:
    for u in spec.legs:
        parse_url(u)
    check_thresholds(spec.tr101290)
