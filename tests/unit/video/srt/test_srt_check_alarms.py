"""stream-check's alarm conditions for SRT legs (what --fail-on-alarm exits 1 on)."""

from __future__ import annotations

from typing import Any

from server_agent.video.ts import COUNTERS
from server_agent.video.udp.check import alarms_of


def doc(*legs: dict[str, Any]) -> dict[str, Any]:
    return {"tr101290": dict.fromkeys(COUNTERS, 0), "dscp": {"expected": None, "observed": []},
            "rtp": None, "legs": list(legs)}


def srt(state: str = "connected", dropped: int = 0) -> dict[str, Any]:
    return {"state": state, "packets_dropped": dropped, "packets_lost": 5}


def test_clean_connected_leg_no_alarm() -> None:
    assert alarms_of(doc({"srt": srt()})) == []  # lost-and-recovered is no alarm


def test_dropped_and_disconnected_are_alarms() -> None:
    assert alarms_of(doc({"srt": srt(dropped=3)})) == ["srt dropped on leg 1: 3"]
    assert alarms_of(doc({"srt": srt("disconnected")})) == ["srt leg 1 disconnected"]


def test_relay_outgoing_leg_counts_too() -> None:
    found = alarms_of(doc({"srt": srt(), "srt_relay_out": srt("connecting", dropped=1)}))
    assert found == ["srt dropped on leg 1: 1", "srt leg 1 out connecting"]
