"""The path of one stream, judged hop by hop, and its first failing hop.

    PathTracker.evaluate(path, figures, lookup, now) -> PathResult
      1. each hop's own verdict: device probes, leg transport figures, stream analysis
      2. source attribution: TS errors the transport cannot have made (transport_error, set
         before IP; or any TR 101 290 error on a leg whose RTP/SRT sequence shows no loss,
         with every hop in between healthy) fail the path's first hop, its source
      3. the first failing hop; every failing hop after it is ``caused_upstream``

The tracker keeps what must persist between evaluations: counter marks (loss counts as loss
only when it grows) and a hold: a failing hop stays failing for ``hold_s`` after its evidence
was last seen, so that sparse loss does not make it flicker and a cause outlives the
symptoms it explains (the service holds a little longer than the stream rules clear).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from server_agent.contract import Device, HopStatus, PathHop
from server_agent.video.paths.hops import (
    LegDeltas,
    StreamFigures,
    Verdict,
    analysis_verdict,
    combine,
    device_verdict,
    link_verdict,
)
from server_agent.video.ts.checks import COUNTERS

SETTLE_S = 2.0  # a leg gets this long for its first datagram (as the no_signal rule does)
SOURCE_ALWAYS = ("transport_error",)  # the TEI is set before IP: by the source or its input

DeviceLookup = Callable[[str], Device | None]


@dataclass(frozen=True, slots=True)
class PathResult:
    hops: list[HopStatus]
    first_failing: str | None = None
    first_index: int | None = None
    analysis_index: int = 0  # the first analysis hop, or len(hops) (implicitly at the end)
    device_ids: dict[str, str] = field(default_factory=dict)  # hop name -> registry id

    def caused_upstream(self) -> list[HopStatus]:
        return [h for h in self.hops if h.state == "caused_upstream"]

    @property
    def upstream_of_analysis(self) -> bool:
        """The first failing hop lies before the point where the agent analyses the stream."""
        return self.first_index is not None and self.first_index < self.analysis_index


@dataclass(slots=True)
class _Held:
    until: float
    reasons: tuple[str, ...]


class PathTracker:
    """One per stream; call :meth:`evaluate` about once a second."""

    def __init__(self, hold_s: float = 5.0) -> None:
        self.hold_s = hold_s
        self.started: float | None = None
        self._marks: dict[str, int] = {}
        self._held: dict[str, _Held] = {}

    def _delta(self, key: str, value: int | None) -> int:
        if value is None:
            return 0
        prev = self._marks.get(key)
        self._marks[key] = value
        return max(0, value - prev) if prev is not None else 0

    def _deltas(self, fig: StreamFigures) -> list[LegDeltas]:
        cc = self._delta("cc", fig.counts.get("continuity_count_error"))
        out = []
        for i, leg in enumerate(fig.legs):
            srt = leg.srt
            out.append(LegDeltas(
                srt_dropped=self._delta(f"srt_dropped{i}", srt.packets_dropped if srt else None),
                srt_lost=self._delta(f"srt_lost{i}", srt.packets_lost if srt else None),
                rtp_lost=self._delta(f"rtp{i}", leg.rtp_lost), cc_errors=cc))
        return out

    def _hold(self, name: str, v: Verdict, now: float) -> Verdict:
        """Keep a failing verdict for ``hold_s`` after its evidence was last seen."""
        if v.state == "failing":
            self._held[name] = _Held(now + self.hold_s, v.reasons)
            return v
        held = self._held.get(name)
        if held is not None and now < held.until:
            return Verdict("failing", held.reasons)
        self._held.pop(name, None)
        return v

    def evaluate(self, path: Sequence[PathHop], fig: StreamFigures, lookup: DeviceLookup,
                 now: float) -> PathResult:
        if self.started is None:
            self.started = now
        settling = now - self.started < SETTLE_S
        deltas = self._deltas(fig)
        analysis_at = next((i for i, h in enumerate(path) if h.kind == "analysis"), len(path))
        verdicts: list[Verdict] = []
        ids: dict[str, str] = {}
        for hop in path:
            parts: list[Verdict] = []
            if hop.device:
                dev = lookup(hop.device)
                if dev is not None:
                    ids[hop.name] = dev.id
                parts.append(device_verdict(hop.device, dev))
            leg_no = hop.leg or 1
            if hop.kind == "link":
                leg = fig.legs[leg_no - 1] if leg_no <= len(fig.legs) else None
                d = deltas[leg_no - 1] if leg_no <= len(deltas) else LegDeltas()
                parts.append(link_verdict(leg_no, leg, d, settling))
            elif hop.kind == "analysis":  # (its rules have their own hysteresis)
                verdicts.append(combine(*parts, analysis_verdict(fig)))
                continue
            verdicts.append(self._hold(hop.name, combine(*parts) if parts
                                       else Verdict("unknown"), now))
        self._attribute_to_source(path, fig, verdicts, analysis_at, now)
        return _rank(path, verdicts, analysis_at, ids)

    def _attribute_to_source(self, path: Sequence[PathHop], fig: StreamFigures,
                             verdicts: list[Verdict], analysis_at: int, now: float) -> None:
        if not path or path[0].kind != "device" or analysis_at == 0:
            return
        ts = [r for r in COUNTERS if r in fig.active]
        blame = [r for r in ts if r in SOURCE_ALWAYS]
        between_ok = all(v.state != "failing" for v in verdicts[1:analysis_at])
        leg_no = (path[analysis_at].leg or 1) if analysis_at < len(path) else 1
        leg = fig.legs[leg_no - 1] if leg_no <= len(fig.legs) else None
        sequenced = leg is not None and (leg.srt is not None or leg.rtp_lost is not None)
        if between_ok and sequenced:
            blame = ts
        v = Verdict("failing", (
            f"the stream leaves it with TS errors ({', '.join(blame)}): no hop after it "
            "explains them",)) if blame else Verdict("ok")
        v = self._hold(f"source:{path[0].name}", v, now)
        if v.state == "failing":
            verdicts[0] = combine(verdicts[0], v)


def _rank(path: Sequence[PathHop], verdicts: list[Verdict], analysis_at: int,
          ids: dict[str, str]) -> PathResult:
    first: int | None = None
    hops = []
    for i, (hop, v) in enumerate(zip(path, verdicts, strict=True)):
        state: str = v.state
        reasons = list(v.reasons)
        if state == "failing":
            if first is None:
                first = i
            else:
                state = "caused_upstream"
                reasons.append(f"caused upstream: {path[first].name} fails first")
        hops.append(HopStatus(name=hop.name, kind=hop.kind, device=hop.device, leg=hop.leg,
                              state=state, reasons=reasons))  # type: ignore[arg-type]
    return PathResult(hops=hops, first_failing=None if first is None else path[first].name,
                      first_index=first, analysis_index=analysis_at, device_ids=ids)
