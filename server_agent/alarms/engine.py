"""AlarmEngine: probe samples in, alarms out (SQLite rows, bus events, an active-count gauge).

    bus ──flypack_probe_up──────► unreachable    Streak     critical
        ──flypack_probe_loss_ratio► loss          Sustained  major
        ──flypack_probe_rtt_seconds► rtt_deviation Sustained + Baseline  minor
                                    rtt_budget    Sustained  major
                      ──► AlarmStore (rows) ──► bus events alarm.raised / .cleared / .acked
                                            └─► flypack_alarms_active{severity}

Rule times are the samples' own times, so tests drive the engine with synthetic samples.
Keys are ``rule/device/probe``. The listener never raises into the publisher: an error is
logged (at most once a minute) and the sample is skipped.

Loss and reachability: while a probe is unreachable, the loss alarm does not raise (the
unreachable alarm says it all), and after the device is back the losses of the outage still
in the loss window do not raise it either: only a loss ratio that rises again, i.e. new loss,
does.

Correlation along stream paths: :meth:`AlarmEngine.hold_devices` names the devices whose
trouble an upstream hop explains (the stream service works that out each second). Their probe
alarms are held back instead of raised (and active ones are taken back) while that lasts; a
held alarm whose condition still holds is raised when the device is no longer explained.

The agent's own delays are not the devices' (issue 14): a result taken while the agent was
starved (``flypack_probe_held_total`` went up, published just before its RTT) is never
learned into a baseline; it is judged on its RTT minus the part the starvation may account
for (``flypack_probe_starved_seconds``), and when that rest is within the limit it is held
(no judgement either way). A delay or loss shared by many devices at once
(:mod:`server_agent.alarms.common`) is discounted before a device is judged, and when a share
of the devices is over its limit at once one ``rtt_common/agent/<kind>`` (or
``loss_common/agent/<kind>``) condition names the common cause (the agent's host or its own
link) instead of an alarm per device.
The agent's own event-loop lag (``flypack_agent_loop_lag_seconds``), sustained above
``agent_lag_alarm_ms``, raises ``agent_starved/agent/loop``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from server_agent.alarms import metric_defs as am
from server_agent.alarms.common import CommonMode
from server_agent.alarms.errors import AlarmNotFound
from server_agent.alarms.rules import Baseline, Streak, Sustained, Transition
from server_agent.alarms.store import AlarmStore
from server_agent.config import AlarmsSection
from server_agent.contract import Alarm, Severity
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus, Sample, sample
from server_agent.probes import metric_defs as pm
from server_agent.store.db import Database

log = logging.getLogger("flypack.alarms")

PUBLISH_EVERY_S = 5.0
BUDGET_REFRESH_S = 10.0
SEVERITY = {"unreachable": Severity.critical, "loss": Severity.major,
            "rtt_deviation": Severity.minor, "rtt_budget": Severity.major}
AGENT_SEVERITY = {"rtt_common": Severity.minor, "loss_common": Severity.major,
                  "agent_starved": Severity.warning}
AGENT_STARVED_KEY = "agent_starved/agent/loop"


@dataclass(slots=True, eq=False)
class _Subject:
    device: str
    probe: str
    unreachable: Streak
    loss: Sustained
    deviation: Sustained
    budget: Sustained
    baseline: Baseline
    post_outage: bool = False
    last_loss: float | None = None
    starved_ms: float = 0.0  # of the RTT sample that comes next: what the agent may explain
    held_total: float = 0.0
    held: bool = False  # the RTT sample that comes next was taken while the agent starved

    def key(self, rule: str) -> str:
        return f"{rule}/{self.device}/{self.probe}"


@dataclass(frozen=True, slots=True)
class _HeldAlarm:
    rule: str
    device: str
    message: str
    value: float | None


class AlarmEngine:
    def __init__(self, config: AlarmsSection, db: Database, bus: LiveBus,
                 registry: DeviceRegistry, *, flypack: str = "flypack-01",
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = config
        self.store = AlarmStore(db)
        self.bus = bus
        self.registry = registry
        self.flypack = flypack
        self.clock = clock
        self._active: dict[str, Alarm] = {a.key: a for a in self.store.active()}
        self._subjects: dict[tuple[str, str], _Subject] = {}
        self._budgets: dict[str, float | None] = {}
        self._budgets_at = -1e18
        self._error_logged_at = -1e18
        self._causes: dict[str, str] = {}  # device -> why its alarms are held (paths)
        self._held: dict[str, _HeldAlarm] = {}  # key -> a raise waiting for its release
        self._handlers: dict[str, Callable[[_Subject, float, float | None], None]] = {
            pm.PROBE_UP.name: self._on_up,
            pm.PROBE_LOSS.name: self._on_loss,
            pm.PROBE_HELD.name: self._on_held,
            pm.PROBE_STARVED.name: self._on_starved,
            pm.PROBE_RTT.name: self._on_rtt,
        }
        c = config
        self.common = CommonMode(c.rollup_window_s, c.rollup_min_devices, c.rollup_share)
        self.common_loss = CommonMode(c.rollup_window_s, c.rollup_min_devices, c.rollup_share)
        self._rollups: dict[str, Sustained] = {}  # "rtt_common/agent/udp" -> its condition
        self._agent = Sustained(c.raise_after_s, c.clear_after_s,
                                AGENT_STARVED_KEY in self._active)
        self.held_samples = 0  # RTT samples held because the agent itself was starved
        bus.add_sample_listener(self.on_sample)

    # --- queries and actions (the API calls these) ----------------------------------------

    def query(self, *, active: bool | None = None, severity: Severity | None = None,
             device: str | None = None, limit: int = 200) -> list[Alarm]:
        return self.store.query(active=active, severity=severity, device=device, limit=limit)

    def active(self) -> list[Alarm]:
        return sorted(self._active.values(), key=lambda a: (a.raised_at, a.id))

    def ack(self, alarm_id: int, who: str) -> Alarm:
        alarm, changed = self.store.ack(alarm_id, who, self.clock())
        if alarm is None:
            raise AlarmNotFound(f"no alarm with id {alarm_id}")
        if changed:
            if alarm.key in self._active and self._active[alarm.key].id == alarm.id:
                self._active[alarm.key] = alarm
                if alarm.rule == "rtt_deviation":
                    self._relearn(alarm.key)
            self.bus.publish_event("alarm.acked", alarm.model_dump(mode="json"))
        return alarm

    def baseline_ms(self, device: str, probe: str) -> tuple[float, float] | None:
        """(mean, mean deviation) of the device's learned RTT, or ``None`` while learning."""
        sub = self._subjects.get((device, probe))
        if sub is None or not sub.baseline.learned:
            return None
        return sub.baseline.mean, sub.baseline.dev

    def raise_alarm(self, key: str, rule: str, severity: Severity, message: str, t: float, *,
                    device: str | None = None, stream: str | None = None,
                    value: float | None = None) -> Alarm:
        """Raise ``key`` unless it is active already (then the active alarm is returned)."""
        known = self._active.get(key)
        if known is not None:
            return known
        alarm = self.store.insert(key=key, rule=rule, severity=severity, message=message, t=t,
                                  device=device, stream=stream, value=value)
        self._active[key] = alarm
        log.warning("alarm raised: %s", message)
        self.bus.publish_event("alarm.raised", alarm.model_dump(mode="json"))
        self.publish_counts(t)
        return alarm

    def hold_devices(self, causes: dict[str, str], t: float) -> None:
        """Hold the probe alarms of ``causes``' devices (device -> why), release the others."""
        self._causes = causes
        for key, h in list(self._held.items()):
            if h.device not in causes:
                del self._held[key]
                self.raise_alarm(key, h.rule, SEVERITY[h.rule], h.message, t, device=h.device,
                                 value=h.value)
        for key, a in list(self._active.items()):
            if a.device is not None and a.device in causes and a.rule in SEVERITY:
                self.clear_alarm(key, t)
                self._held[key] = _HeldAlarm(a.rule, a.device, a.message, a.value)

    def held(self) -> dict[str, str]:
        """Alarm key -> why it is held back (for logs and tests)."""
        return {k: self._causes.get(h.device, "") for k, h in self._held.items()}

    def clear_alarm(self, key: str, t: float) -> Alarm | None:
        known = self._active.pop(key, None)
        if known is None:
            return None
        alarm = self.store.clear(known.id, t) or known
        log.info("alarm cleared: %s", known.message)
        self.bus.publish_event("alarm.cleared", alarm.model_dump(mode="json"))
        self.publish_counts(t)
        return alarm

    def publish_counts(self, t: float | None = None) -> None:
        counts = dict.fromkeys(Severity, 0)
        for a in self._active.values():
            counts[a.severity] += 1
        now = self.clock() if t is None else t
        self.bus.publish([
            sample(am.ALARMS_ACTIVE.name, {"flypack": self.flypack, "severity": sev.value},
                   float(n), now)
            for sev, n in counts.items()
        ])

    async def run(self) -> None:
        """Publish the active counts now and every few seconds (so a new chart has a value)."""
        while True:
            self.publish_counts()
            await asyncio.sleep(PUBLISH_EVERY_S)

    # --- the bus listener -----------------------------------------------------------------

    def on_sample(self, s: Sample) -> None:
        handler = self._handlers.get(s.series)
        if handler is None:
            if s.series == pm.AGENT_LOOP_LAG.name and s.v is not None:
                self._on_loop_lag(s.t, s.v)
            return
        try:
            device = probe = None
            for k, v in s.labels:
                if k == "device":
                    device = v
                elif k == "probe":
                    probe = v
            if device is not None and probe is not None:
                handler(self._subject(device, probe), s.t, s.v)
        except Exception:
            now = time.monotonic()
            if now - self._error_logged_at > 60:
                self._error_logged_at = now
                log.exception("alarm engine could not judge %s; skipped", s.series)

    def _subject(self, device: str, probe: str) -> _Subject:
        sub = self._subjects.get((device, probe))
        if sub is None:
            c = self.cfg

            def on(rule: str) -> bool:
                return f"{rule}/{device}/{probe}" in self._active

            sub = self._subjects[(device, probe)] = _Subject(
                device, probe,
                unreachable=Streak(c.unreachable_after, c.reachable_after, on("unreachable")),
                loss=Sustained(c.raise_after_s, c.clear_after_s, on("loss")),
                deviation=Sustained(c.raise_after_s, c.clear_after_s, on("rtt_deviation")),
                budget=Sustained(c.raise_after_s, c.clear_after_s, on("rtt_budget")),
                baseline=Baseline(c.baseline_samples, c.baseline_alpha),
            )
        return sub

    def _apply(self, sub: _Subject, rule: str, tr: Transition, t: float, message: str,
               value: float | None) -> None:
        key = sub.key(rule)
        if tr == "raise" and sub.device in self._causes:
            self._held[key] = _HeldAlarm(rule, sub.device, message, value)
            log.info("alarm held (%s): %s", self._causes[sub.device], message)
        elif tr == "raise":
            self.raise_alarm(key, rule, SEVERITY[rule], message, t, device=sub.device,
                             value=value)
        elif tr == "clear" and self._held.pop(key, None) is None:
            self.clear_alarm(key, t)

    def _on_up(self, sub: _Subject, t: float, v: float | None) -> None:
        if v is None:
            return
        tr = sub.unreachable.update(v >= 0.5)
        if tr == "raise":
            sub.post_outage = True
        n = sub.unreachable.bad
        self._apply(sub, "unreachable", tr, t,
                    f"{sub.device} does not answer {sub.probe} ({n} probes in a row lost)", n)

    def _on_loss(self, sub: _Subject, t: float, v: float | None) -> None:
        if v is None:
            return
        c = self.cfg
        bad, good = v > c.loss_raise_ratio, v <= c.loss_clear_ratio
        if sub.unreachable.active:
            bad = False
        elif sub.post_outage:
            rising = sub.last_loss is not None and v > sub.last_loss + 1e-9
            if good or rising:
                sub.post_outage = False
            else:
                bad = False  # the outage's losses are still leaving the window
        sub.last_loss = v
        kind = sub.probe.partition(":")[0]
        self.common_loss.add(kind, sub.device, t, v, bad)
        shared = self.common_loss.excess(kind, t)  # loss the host or own link causes now
        self._judge_common("loss_common", self.common_loss, kind, t)
        if bad and v - shared <= c.loss_raise_ratio:
            bad = False  # the others lose as much now: the common condition says it
        self._apply(sub, "loss", sub.loss.update(t, bad, good), t,
                    f"{sub.device} loses {v:.0%} of its {sub.probe} probes "
                    f"(alarm above {c.loss_raise_ratio:.0%})", v)

    def _on_held(self, sub: _Subject, t: float, v: float | None) -> None:
        if v is not None:
            sub.held = v > sub.held_total
            sub.held_total = v

    def _on_starved(self, sub: _Subject, t: float, v: float | None) -> None:
        sub.starved_ms = 0.0 if v is None else v * 1000.0

    def _on_rtt(self, sub: _Subject, t: float, v: float | None) -> None:
        starved, sub.starved_ms = sub.starved_ms, 0.0
        held, sub.held = sub.held, False
        if v is not None:
            ms = v * 1000.0
            self._judge_deviation(sub, t, ms, starved, held)
            budget = self._budget(sub.device)
            if budget is not None:
                over = ms - starved > budget
                if starved and not over:  # held: the starvation may explain it
                    sub.budget.hold()
                else:
                    self._apply(sub, "rtt_budget", sub.budget.update(t, over, not over), t,
                                f"{sub.device} answers {sub.probe} in {ms:.1f} ms, over its "
                                f"{budget:g} ms budget", ms)
        self._show_baseline(sub)

    def _judge_deviation(self, sub: _Subject, t: float, ms: float, starved: float,
                         held: bool) -> None:
        base = sub.baseline
        if held:
            self.held_samples += 1
        if not base.learned:
            if not held:
                base.learn(ms)
            return
        c = self.cfg
        kind = sub.probe.partition(":")[0]
        limit = base.limit(c.rtt_deviation_factor, c.rtt_deviation_min_ms)
        own = ms - starved  # what the agent's own starvation cannot explain
        self.common.add(kind, sub.device, t, own - base.mean, own > limit)
        common = self.common.excess(kind, t)
        over = own - common > limit
        rolled_up = self._judge_common("rtt_common", self.common, kind, t)
        if starved and not over:  # held: says nothing either way
            sub.deviation.hold()
            return
        tr = sub.deviation.update(t, over, not over)
        shared = f", {common:.1f} ms of it shared by other devices now" if common >= 0.05 else ""
        self._apply(sub, "rtt_deviation", tr, t,
                    f"{sub.device} answers {sub.probe} in {ms:.1f} ms{shared}; its usual is "
                    f"{base.mean:.1f} ms ± {base.dev:.1f} ms (alarm above {limit:.1f} ms)", ms)
        if ms <= limit and not held and not rolled_up and not sub.deviation.active:
            base.learn(ms)  # adapt slowly, only to normal samples of an agent that was not busy

    def _judge_common(self, rule: str, common: CommonMode, kind: str, t: float) -> bool:
        """The roll-up: one condition when many devices of ``kind`` are off at once."""
        key = f"{rule}/agent/{kind}"
        cond = self._rollups.get(key)
        if cond is None:
            c = self.cfg
            cond = self._rollups[key] = Sustained(c.raise_after_s, c.clear_after_s,
                                                  key in self._active)
        bad = common.rolled_up(kind, t)
        tr = cond.update(t, bad, not bad)
        if tr == "raise":
            n_over, n = common.over(kind, t)
            what = "answer {} probes late" if rule == "rtt_common" else "lose {} probes"
            self.raise_alarm(key, rule, AGENT_SEVERITY[rule],
                             f"{n_over} of {n} devices {what.format(kind)} at once: the common "
                             "cause is the agent's host or its own link, not the devices", t,
                             value=float(n_over))
        elif tr == "clear":
            self.clear_alarm(key, t)
        return bad or cond.active

    def _on_loop_lag(self, t: float, lag_s: float) -> None:
        ms = lag_s * 1000.0
        limit = self.cfg.agent_lag_alarm_ms
        tr = self._agent.update(t, ms >= limit, ms < limit / 2)
        if tr == "raise":
            self.raise_alarm(AGENT_STARVED_KEY, "agent_starved", AGENT_SEVERITY["agent_starved"],
                             f"the agent's own event loop runs up to {ms:.0f} ms late (alarm "
                             f"above {limit:g} ms): its host is too busy; device RTTs measured "
                             "meanwhile are held, not judged", t, value=ms)
        elif tr == "clear":
            self.clear_alarm(AGENT_STARVED_KEY, t)

    def _relearn(self, key: str) -> None:
        # acking an RTT deviation accepts the new RTT as normal: learn the baseline again; the
        # alarm clears once the RTT is within the new baseline's limit for clear_after_s
        _, device, probe = key.split("/", 2)
        sub = self._subjects.get((device, probe))
        if sub is not None:
            sub.baseline = Baseline(self.cfg.baseline_samples, self.cfg.baseline_alpha)

    def _budget(self, device: str) -> float | None:
        if device not in self._budgets:
            now = time.monotonic()
            if now - self._budgets_at < BUDGET_REFRESH_S:
                return None
            self._budgets_at = now
            self._budgets = {d.name: d.rtt_budget_ms for d in self.registry.targets()}
        return self._budgets.get(device)

    def _show_baseline(self, sub: _Subject) -> None:
        if not sub.baseline.learned:
            return
        mean = round(sub.baseline.mean, 3)
        for st in self.registry.probe_status(sub.device):
            if st.probe == sub.probe:
                if st.baseline_rtt_ms != mean:
                    self.registry.set_probe_status(
                        sub.device, st.model_copy(update={"baseline_rtt_ms": mean}))
                return
