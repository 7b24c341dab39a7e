"""One stream under live analysis: its receiver, its alarm rules, its metric samples."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from server_agent.alarms.rules import Sustained
from server_agent.contract import Severity, StreamLegStatus, StreamSpec
from server_agent.live.bus import Sample, sample
from server_agent.video import metric_defs as m
from server_agent.video.srt import samples as srt
from server_agent.video.srt.leg import SecretLookup, SrtLeg
from server_agent.video.streams.settings import settings_of
from server_agent.video.ts.checks import COUNTERS, P1
from server_agent.video.udp.errors import ReceiverError
from server_agent.video.udp.receiver import StreamReceiver
from server_agent.video.udp.url import parse_url

NO_SIGNAL_GRACE_S = 2.0  # a freshly joined leg is not "silent" before this
RULES: dict[str, Severity] = {"no_signal": Severity.critical, "dscp": Severity.minor,
                              "rtp_loss": Severity.major, "dual_lost_both": Severity.major,
                              "dual_skew": Severity.minor, "bitrate": Severity.major,
                              **{c: (Severity.major if c in P1 else Severity.minor)
                                 for c in COUNTERS}, **srt.RULES}


@dataclass
class LiveStream:
    spec: StreamSpec
    source: str
    clear_after_s: float
    rx: StreamReceiver | None = None
    error: str | None = None
    retry_at: float = 0.0
    rules: dict[str, Sustained] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)  # rule -> message
    transitions: list[tuple[str, str, str]] = field(default_factory=list)
    _marks: dict[str, int] = field(default_factory=dict)
    _pid_prev: npt.NDArray[np.int64] | None = None
    _second: float = 0.0
    bitrate_bps: float | None = None
    secrets: SecretLookup | None = None  # passphrase_ref -> the credential store's secret

    def open(self, loop: object) -> None:
        import asyncio

        assert isinstance(loop, asyncio.AbstractEventLoop)
        try:
            self.rx = StreamReceiver([parse_url(u) for u in self.spec.legs],
                                     expected_dscp=self.spec.expected_dscp,
                                     buffer_ms=self.spec.buffer_ms,
                                     settings=settings_of(self.spec.tr101290),
                                     secrets=self.secrets)
            self.rx.start(loop)
            self.error = None
        except ReceiverError as exc:
            self.error = str(exc)
            self.retry_at = time.time() + 5

    def close(self) -> None:
        if self.rx is not None:
            self.rx.close()
            self.rx = None

    def tick(self, flypack: str, now: float) -> list[Sample]:
        rx = self.rx
        if rx is None:
            return []
        rx.tick(now)
        lab = {"flypack": flypack, "stream": self.spec.id}
        out = [sample(m.TS_COUNTERS[c].name, lab, float(n), now)
               for c, n in rx.analyzer.counts.items()]
        for i, leg in enumerate(rx.legs):
            if isinstance(leg, SrtLeg):  # SRT figures at the full 10 Hz, connected or not
                out += srt.leg_samples(leg, i, lab, now)
        if now - self._second >= 1.0:
            out += self._per_second(lab, now)
            self._second = now
        return out

    def _per_second(self, lab: dict[str, str], now: float) -> list[Sample]:
        assert self.rx is not None
        rx, an = self.rx, self.rx.analyzer
        out: list[Sample] = []
        span = now - self._second if self._second else 1.0
        pids = an.pid_packets.copy()
        if self._pid_prev is not None and span > 0:
            delta = pids - self._pid_prev
            self.bitrate_bps = float(delta.sum()) * 188 * 8 / span
            out.append(sample(m.TS_BITRATE.name, lab, self.bitrate_bps, now))
            for pid in np.flatnonzero(delta).tolist():
                out.append(sample(m.TS_PID_BITRATE.name, {**lab, "pid": str(pid)},
                                  float(delta[pid]) * 1504 / span, now))
        self._pid_prev = pids
        for c, (es, ses) in an.error_seconds().items():
            out.append(sample(m.TS_ERRORED_SECONDS.name, {**lab, "check": c}, es, now))
            out.append(sample(m.TS_SEVERELY_ERRORED_SECONDS.name, {**lab, "check": c}, ses,
                              now))
        bad: dict[str, str | None] = {}
        for c in COUNTERS:
            n = self._delta(c, an.counts[c])
            bad[c] = f"TR 101 290 {c}: {n} in the last second" if n else None
        silent = []
        bad["srt_disconnected"] = bad["srt_dropped"] = None
        for i, leg in enumerate(rx.legs):
            st = leg.stats
            ll = {**lab, "leg": str(i + 1)}
            up = st.last_t is not None and now - st.last_t < 1.0
            if isinstance(leg, SrtLeg):
                for rule, msg in srt.problems(leg, i, self._delta(
                        f"srtdrop{i}", srt.dropped_total(leg)), now).items():
                    bad[rule] = "; ".join(x for x in (bad[rule], msg) if x) or None
                if leg.device is not None:
                    continue  # device-reported: the agent receives no payload of this leg
            if not up and (st.last_t is not None or now - leg.joined_at >= NO_SIGNAL_GRACE_S):
                silent.append(str(i + 1))  # (a leg just joined gets a grace period first)
            out += [sample(m.STREAM_UP.name, ll, float(up), now),
                    sample(m.STREAM_DATAGRAMS.name, ll, st.datagrams, now),
                    sample(m.STREAM_BITRATE.name, ll, st.bitrate_bps, now),
                    sample(m.STREAM_DSCP_MISMATCH.name, ll, st.dscp_mismatch, now),
                    sample(m.STREAM_MDI_DF.name, ll,
                           None if st.df_ms is None else st.df_ms / 1000, now),
                    sample(m.STREAM_IAT_MAX.name, ll,
                           None if st.iat_max_ms is None else st.iat_max_ms / 1000, now),
                    sample(m.STREAM_JOIN.name, ll,
                           None if leg.join_ms is None else leg.join_ms / 1000, now)]
            if st.dscp_counts:
                out.append(sample(m.STREAM_DSCP.name, ll, float(max(
                    st.dscp_counts, key=lambda d: st.dscp_counts[d])), now))
            if leg.url.rtp:
                out += [sample(m.STREAM_RTP_LOST.name, ll, st.seq.lost, now),
                        sample(m.STREAM_RTP_REORDERED.name, ll, st.seq.reordered, now),
                        sample(m.STREAM_RTP_DUPLICATES.name, ll, st.seq.duplicates, now)]
            n = self._delta(f"dscp{i}", st.dscp_mismatch)
            if n:
                bad["dscp"] = f"{n} datagrams on leg {i + 1} not marked DSCP " \
                              f"{self.spec.expected_dscp} (seen {st.dscp_observed})"
            if rx.dual is None and self._delta(f"rtp{i}", st.seq.lost):
                bad["rtp_loss"] = f"RTP packets lost on leg {i + 1}"
        bad.setdefault("dscp", None)
        bad.setdefault("rtp_loss", None)
        bad["no_signal"] = f"no datagrams on leg {', '.join(silent)}" if silent else None
        mlr = self._delta("mlr", an.counts["continuity_count_error"])
        out.append(sample(m.STREAM_MDI_MLR.name, lab, float(mlr), now))
        d = rx.dual
        bad["dual_lost_both"] = bad["dual_skew"] = None
        if d is not None:
            out += [sample(m.DUAL_SKEW.name, lab,
                           None if d.skew_ms is None else d.skew_ms / 1000, now),
                    sample(m.DUAL_HITLESS.name, lab, float(d.hitless), now)]
            for name, n in (("1", d.lost_leg[0]), ("2", d.lost_leg[1]), ("both", d.lost_both)):
                out.append(sample(m.DUAL_LOST.name, {**lab, "leg": name}, n, now))
            if self._delta("both", d.lost_both):
                bad["dual_lost_both"] = "packets lost on both 2022-7 legs"
            if d.skew_max > d.buffer_s:
                bad["dual_skew"] = f"2022-7 skew {d.skew_max * 1000:.1f} ms over the buffer"
        lo, hi = self.spec.bitrate_min_bps, self.spec.bitrate_max_bps
        br = self.bitrate_bps
        bad["bitrate"] = (f"bitrate {br / 1e6:.2f} Mb/s outside the expected range"
                          if br is not None and not silent and ((lo is not None and br < lo)
                                                                or (hi is not None and br > hi))
                          else None)
        self._judge(bad, now)
        return out

    def _delta(self, key: str, value: int) -> int:
        prev = self._marks.get(key, 0)
        self._marks[key] = value
        return value - prev

    def _judge(self, bad: dict[str, str | None], now: float) -> None:
        self.transitions = []
        for rule, msg in bad.items():
            r = self.rules.get(rule)
            if r is None:
                r = self.rules[rule] = Sustained(0.0, self.clear_after_s)
            tr = r.update(now, msg is not None, msg is None)
            if tr == "raise" and msg is not None:
                self.active[rule] = msg
                self.transitions.append(("raise", rule, msg))
            elif tr == "clear":
                self.active.pop(rule, None)
                self.transitions.append(("clear", rule, ""))

    def leg_status(self) -> list[StreamLegStatus]:
        out = []
        now = time.time()
        for i, url in enumerate(self.spec.legs):
            if self.rx is None or i >= len(self.rx.legs):
                out.append(StreamLegStatus(url=url, up=False, error=self.error))
                continue
            leg = self.rx.legs[i]
            st = leg.stats
            figures = leg.status() if isinstance(leg, SrtLeg) else []
            out.append(StreamLegStatus(
                url=url, up=(figures[0].state == "connected"
                             if isinstance(leg, SrtLeg) and leg.device is not None
                             else st.last_t is not None and now - st.last_t < 1.0),
                bitrate_bps=st.bitrate_bps, datagrams=st.datagrams,
                dscp_observed=st.dscp_observed,
                rtp_lost=st.seq.lost if leg.url.rtp else None,
                rtp_reordered=st.seq.reordered if leg.url.rtp else None,
                rtp_duplicates=st.seq.duplicates if leg.url.rtp else None,
                df_ms=st.df_ms, join_ms=leg.join_ms,
                error=leg.error if isinstance(leg, SrtLeg) else None,
                srt=figures[0] if figures else None,
                srt_relay_out=figures[1] if len(figures) > 1 else None))
        return out
