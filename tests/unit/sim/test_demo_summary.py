"""The demo terminal's alarm summary (issue 14, finding 9): one line per change of the active
alarms, raised and cleared alike, from the real engine's bus events; the engine's per-alarm log
goes to the state dir, not the terminal."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from server_agent.alarms.engine import AlarmEngine
from server_agent.config import AlarmsSection, DeviceSection
from server_agent.contract import Severity
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus
from server_agent.sim.demo_summary import AlarmSummary, attach_summary, changes_text
from server_agent.store.db import Database


def engine(tmp_path: Path) -> tuple[AlarmEngine, LiveBus]:
    bus = LiveBus()
    reg = DeviceRegistry([DeviceSection(name=f"enc-{i:02}", address=f"127.0.0.{i}")
                          for i in range(1, 13)])
    return AlarmEngine(AlarmsSection(), Database(tmp_path / "agent.db"), bus, reg,
                       flypack="fp"), bus


def raise_(e: AlarmEngine, rule: str, dev: str, sev: Severity = Severity.minor) -> None:
    e.raise_alarm(f"{rule}/{dev}/icmp", rule, sev, f"{rule} on {dev}", 1000.0, device=dev)


def test_one_line_per_change_raised_and_cleared(tmp_path: Path) -> None:
    e, bus = engine(tmp_path)
    lines: list[str] = []
    summary = attach_summary(SimpleNamespace(alarms=e, bus=bus), tmp_path, lines.append,
                             window_s=0)
    try:
        raise_(e, "rtt_deviation", "enc-01")
        raise_(e, "loss", "enc-02", Severity.major)
        e.clear_alarm("rtt_deviation/enc-01/icmp", 1010.0)
        e.clear_alarm("loss/enc-02/icmp", 1011.0)
    finally:
        summary.close()
    assert lines == [
        "alarms: 1 active (1 minor), +1 rtt_deviation enc-01",
        "alarms: 2 active (1 major, 1 minor), +1 loss enc-02",
        "alarms: 1 active (1 major), cleared 1 rtt_deviation enc-01",
        "alarms: none active, cleared 1 loss enc-02",
    ]


def test_engine_log_goes_to_the_state_dir_not_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    e, bus = engine(tmp_path)
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [logging.StreamHandler()]  # as `flypack-agent demo` has: a terminal
    try:
        summary = attach_summary(SimpleNamespace(alarms=e, bus=bus), tmp_path, print,
                                 window_s=0)
        raise_(e, "unreachable", "enc-03", Severity.critical)
        e.clear_alarm("unreachable/enc-03/icmp", 1005.0)
        summary.close()
        err = capsys.readouterr()
        assert "alarm raised" not in err.err + err.out
        assert "alarms: 1 active (1 critical), +1 unreachable enc-03" in err.out
        assert "alarms: none active, cleared 1 unreachable enc-03" in err.out
        log = (tmp_path / "alarms.log").read_text()
        assert "alarm raised: unreachable on enc-03" in log
        assert "alarm cleared: unreachable on enc-03" in log
        assert logging.getLogger("flypack.alarms").propagate  # restored by close()
    finally:
        root.handlers = saved


async def test_a_burst_is_one_line(tmp_path: Path) -> None:
    e, bus = engine(tmp_path)
    lines: list[str] = []
    summary = attach_summary(SimpleNamespace(alarms=e, bus=bus), tmp_path, lines.append,
                             window_s=0.05)
    try:
        for i in range(1, 13):
            raise_(e, "rtt_deviation", f"enc-{i:02}")
        assert lines == []
        await asyncio.sleep(0.2)
        assert lines == ["alarms: 12 active (12 minor), +12 rtt_deviation "
                         "enc-01 enc-02 enc-03 enc-04 and 8 more"]
    finally:
        summary.close()


def test_seeded_from_alarms_already_active_and_acks_counted(tmp_path: Path) -> None:
    e, bus = engine(tmp_path)
    raise_(e, "loss", "enc-05", Severity.major)
    lines: list[str] = []
    summary = attach_summary(SimpleNamespace(alarms=e, bus=bus), tmp_path, lines.append,
                             window_s=0)
    try:
        alarm = e.active()[0]
        e.ack(alarm.id, "admin")
        raise_(e, "rtt_deviation", "enc-06")
    finally:
        summary.close()
    assert lines == ["alarms: 1 active (1 major; 1 acked), acked 1 loss enc-05",
                     "alarms: 2 active (1 major, 1 minor; 1 acked), +1 rtt_deviation enc-06"]


def test_changes_grouped_by_kind_and_rule() -> None:
    changes: list[tuple[str, str, str]] = [
        ("alarm.raised", "stream_path", "sim-enc-01"), ("alarm.cleared", "loss", "enc-01"),
        ("alarm.raised", "stream_path", "sim-enc-02"), ("alarm.cleared", "loss", "enc-01")]
    assert changes_text(changes) == "+2 stream_path sim-enc-01 sim-enc-02, cleared 2 loss enc-01"
    s = AlarmSummary(lambda _: None, window_s=0)
    data: dict[str, Any] = {"key": "x/enc-09/icmp", "rule": "x", "severity": "minor"}
    s.on_event("alarm.cleared", data)  # an unknown clear never goes negative
    s.on_event("alarm.acked", data)  # nor does an ack of a cleared alarm count as active
    assert s.active == {}
