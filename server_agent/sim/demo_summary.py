"""The demo terminal's alarm summary: one line per change of the active alarms.

    bus events alarm.raised / .cleared / .acked ─► AlarmSummary.on_event
        ─► changes within WINDOW_S coalesced ─► one line on the terminal:

    alarms: 3 active (1 major, 2 minor), +1 rtt_deviation enc-01
    alarms: 2 active (1 major, 1 minor), cleared 1 rtt_deviation enc-01
    alarms: none active, cleared 2 loss enc-01 enc-02

The engine logs every alarm it raises (logger ``flypack.alarms``); in the demo that log goes to
``<state dir>/alarms.log`` instead of the terminal (:func:`route_alarm_log`), errors excepted.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server_agent.runtime import Services

WINDOW_S = 1.0
SHOWN = 4  # subjects named per group before "and N more"
SEVERITIES = ("critical", "major", "minor", "warning")
VERBS = {"alarm.raised": "+", "alarm.cleared": "cleared ", "alarm.acked": "acked "}


@dataclass(frozen=True)
class Active:
    rule: str
    severity: str
    subject: str
    acked: bool = False


def _subject(data: dict[str, Any]) -> str:
    key = str(data.get("key", ""))
    parts = key.split("/")
    return str(data.get("device") or data.get("stream") or (parts[1] if len(parts) > 1 else key))


def counts_text(active: dict[str, Active]) -> str:
    if not active:
        return "none active"
    by = {s: sum(a.severity == s for a in active.values()) for s in SEVERITIES}
    other = len(active) - sum(by.values())
    parts = [f"{n} {s}" for s, n in by.items() if n] + ([f"{other} other"] if other else [])
    acked = sum(a.acked for a in active.values())
    tail = f"; {acked} acked" if acked else ""
    return f"{len(active)} active ({', '.join(parts)}{tail})"


def changes_text(changes: list[tuple[str, str, str]]) -> str:
    """``changes``: (event kind, rule, subject) in order; grouped by kind and rule, counting
    alarms (a device can have one per probe) and naming each subject once."""
    groups: dict[tuple[str, str], list[str]] = {}
    for kind, rule, subject in changes:
        groups.setdefault((kind, rule), []).append(subject)
    out = []
    for (kind, rule), subjects in groups.items():
        unique = list(dict.fromkeys(subjects))
        names = " ".join(unique[:SHOWN])
        if len(unique) > SHOWN:
            names += f" and {len(unique) - SHOWN} more"
        out.append(f"{VERBS[kind]}{len(subjects)} {rule} {names}")
    return ", ".join(out)


@dataclass
class AlarmSummary:
    """Keeps the active set from the bus events and writes one line per batch of changes.

    ``window_s`` 0 writes at once (tests); otherwise the changes of the next ``window_s``
    seconds on the running loop are coalesced, so a burst is one line, not one per alarm.
    """

    write: Callable[[str], None]
    window_s: float = WINDOW_S
    active: dict[str, Active] = field(default_factory=dict)
    pending: list[tuple[str, str, str]] = field(default_factory=list)
    _timer: asyncio.TimerHandle | None = None

    def seed(self, alarms: list[dict[str, Any]]) -> None:
        """The alarms already active when the demo starts (a reused state dir)."""
        for data in alarms:
            self._apply("alarm.raised", data)

    def _apply(self, kind: str, data: dict[str, Any]) -> tuple[str, str, str]:
        key = str(data.get("key", ""))
        a = Active(str(data.get("rule", "?")), str(data.get("severity", "?")), _subject(data),
                   data.get("acked_by") is not None)
        if kind == "alarm.cleared":
            self.active.pop(key, None)
        elif kind == "alarm.raised" or key in self.active:  # an ack of a cleared one: no
            self.active[key] = a
        return kind, a.rule, a.subject

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind not in VERBS:
            return
        self.pending.append(self._apply(kind, data))
        if self.window_s <= 0:
            self.flush()
            return
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (called from a thread): no coalescing
                self.flush()
                return
            self._timer = loop.call_later(self.window_s, self.flush)

    def flush(self) -> None:
        self._timer = None
        if self.pending:
            changes, self.pending = self.pending, []
            self.write(f"alarms: {counts_text(self.active)}, {changes_text(changes)}")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.flush()


@dataclass
class RoutedLog:
    logger: logging.Logger
    handlers: list[logging.Handler]
    propagate: bool
    level: int

    def restore(self) -> None:
        for h in self.handlers:
            self.logger.removeHandler(h)
            h.close()
        self.logger.propagate, self.logger.level = self.propagate, self.level


def route_alarm_log(path: Path, name: str = "flypack.alarms") -> RoutedLog:
    """Every record of ``name`` to ``path``; only errors still reach the terminal (stderr)."""
    logger = logging.getLogger(name)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    errors = logging.StreamHandler(sys.stderr)
    errors.setLevel(logging.ERROR)
    errors.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    routed = RoutedLog(logger, [to_file, errors], logger.propagate, logger.level)
    for h in routed.handlers:
        logger.addHandler(h)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return routed


def _print(line: str) -> None:
    print(line, flush=True)


@dataclass
class DemoSummary:
    summary: AlarmSummary
    routed: RoutedLog

    def close(self) -> None:
        self.summary.close()
        self.routed.restore()


def attach_summary(svc: Services, state_dir: Path, write: Callable[[str], None] = _print,
                   window_s: float = WINDOW_S) -> DemoSummary:
    """Hook the summary onto the agent's bus and route the engine's log to the state dir;
    ``close()`` flushes and restores the logger."""
    summary = AlarmSummary(write, window_s)
    if svc.alarms is not None:
        summary.seed([a.model_dump(mode="json") for a in svc.alarms.active()])
    svc.bus.add_event_listener(summary.on_event)
    return DemoSummary(summary, route_alarm_log(Path(state_dir) / "alarms.log"))
