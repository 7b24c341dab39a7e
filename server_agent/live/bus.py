"""The live bus: collectors publish samples, the bus buffers them and fans them out.

    collectors ──publish()──► LiveBus ──► SeriesBuffer per series (2 min fine, 1 h coarse)
                                     ├──► Subscriber queues (WebSocket clients, bounded)
                                     └──► sample listeners (alarm engine, ...)

``publish`` is synchronous and O(subscribers) per sample with no awaits, so a collector is never
blocked by a slow client: each subscriber has a bounded queue that drops its oldest entries and
counts them (the client then gets an ``overflow`` message). Each sample is JSON-encoded once,
however many clients receive it.
"""

from __future__ import annotations

import fnmatch
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from server_agent.live.buffers import SeriesBuffer

Labels = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Labels]


def labels_of(mapping: Mapping[str, str]) -> Labels:
    return tuple(sorted(mapping.items()))


@dataclass(slots=True, frozen=True)
class Sample:
    series: str
    labels: Labels
    t: float
    v: float | None

    @property
    def key(self) -> SeriesKey:
        return (self.series, self.labels)


def sample(
    series: str, labels: Mapping[str, str], v: float | None, t: float | None = None
) -> Sample:
    """Convenience constructor; NaN and infinities become ``None`` (the wire has no NaN)."""
    if v is not None and not math.isfinite(v):
        v = None
    return Sample(series, labels_of(labels), time.time() if t is None else t, v)


def encode_sample(s: Sample) -> str:
    return json.dumps(
        {"series": s.series, "labels": dict(s.labels), "t": s.t, "v": s.v},
        separators=(",", ":"),
        allow_nan=False,
    )


SampleListener = Callable[[Sample], None]
EventListener = Callable[[str, dict[str, Any]], None]


class Subscriber:
    """One live client: its filter and its bounded outgoing queue."""

    def __init__(self, max_pending: int = 20000, max_events: int = 1000) -> None:
        self.patterns: list[str] = []
        self.match: dict[str, str] = {}
        self._wants: dict[SeriesKey, bool] = {}
        self.samples: deque[str] = deque()
        self.events: deque[str] = deque(maxlen=max_events)
        self.max_pending = max_pending
        self.dropped = 0
        self.wakeup: Callable[[], None] = lambda: None

    def subscribe(self, patterns: list[str], match: Mapping[str, str]) -> None:
        self.patterns = list(patterns)
        self.match = dict(match)
        self._wants.clear()

    def wants(self, key: SeriesKey) -> bool:
        hit = self._wants.get(key)
        if hit is None:
            name, labels = key
            lab = dict(labels)
            hit = any(fnmatch.fnmatchcase(name, p) for p in self.patterns) and all(
                lab.get(k) == v for k, v in self.match.items()
            )
            self._wants[key] = hit
        return hit

    def push_sample(self, frag: str) -> None:
        q = self.samples
        q.append(frag)
        if len(q) > self.max_pending:
            q.popleft()
            self.dropped += 1
        self.wakeup()

    def push_event(self, message: str) -> None:
        if len(self.events) == self.events.maxlen:
            self.dropped += 1
        self.events.append(message)
        self.wakeup()

    def take(self) -> tuple[list[str], list[str], int]:
        samples = list(self.samples)
        self.samples.clear()
        events = list(self.events)
        self.events.clear()
        dropped, self.dropped = self.dropped, 0
        return samples, events, dropped


class LiveBus:
    """``keeps_aggregates(name)`` says whether a series gets 1 h of 1 s aggregates (counters
    need not: see buffers.py); by default every series does."""

    def __init__(self, keeps_aggregates: Callable[[str], bool] = lambda _: True) -> None:
        self.keeps_aggregates = keeps_aggregates
        self.buffers: dict[SeriesKey, SeriesBuffer] = {}
        self.subscribers: set[Subscriber] = set()
        self._sample_listeners: list[SampleListener] = []
        self._event_listeners: list[EventListener] = []
        self.published = 0

    # --- producers ----------------------------------------------------------------------

    def publish(self, samples: Iterable[Sample]) -> None:
        subs = self.subscribers
        for s in samples:
            key = s.key
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = SeriesBuffer(self.keeps_aggregates(s.series))
            buf.append(s.t, s.v)
            self.published += 1
            if subs:
                frag: str | None = None
                for sub in subs:
                    if sub.wants(key):
                        if frag is None:
                            frag = encode_sample(s)
                        sub.push_sample(frag)
            for listener in self._sample_listeners:
                listener(s)

    def publish_event(self, kind: str, data: dict[str, Any]) -> None:
        message = json.dumps(
            {"type": "event", "t": time.time(), "kind": kind, "data": data},
            separators=(",", ":"),
            default=str,
        )
        for sub in self.subscribers:
            sub.push_event(message)
        for listener in self._event_listeners:
            listener(kind, data)

    # --- consumers ----------------------------------------------------------------------

    def add_sample_listener(self, fn: SampleListener) -> None:
        self._sample_listeners.append(fn)

    def add_event_listener(self, fn: EventListener) -> None:
        self._event_listeners.append(fn)

    def attach(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)

    def detach(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def series(self, name_glob: str = "*", match: Mapping[str, str] | None = None) -> Iterator[
        tuple[SeriesKey, SeriesBuffer]
    ]:
        want = dict(match or {})
        for key, buf in self.buffers.items():
            name, labels = key
            if not fnmatch.fnmatchcase(name, name_glob):
                continue
            lab = dict(labels)
            if all(lab.get(k) == v for k, v in want.items()):
                yield key, buf

    def latest(self, series: str, labels: Mapping[str, str]) -> float | None:
        buf = self.buffers.get((series, labels_of(labels)))
        last = buf.latest if buf else None
        return last[1] if last else None
