"""The real agent process: probes run, an alarm raises, the API lists and acknowledges it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support import agent_process, free_port


def test_agent_raises_lists_and_acks_an_unreachable_alarm(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens here: every connect is refused
    extra = (
        "[probes]\ninterval_s = 0.1\ntimeout_s = 0.08\n"
        "[[devices]]\nname = \"enc-01\"\naddress = \"127.0.0.1\"\n"
        f"probes = [\"tcp:{closed}\"]\n"
    )
    with agent_process(tmp_path, extra) as agent:
        viewer = {"Authorization": f"Bearer {agent.token('viewer')}"}
        operator = {"Authorization": f"Bearer {agent.token('operator')}"}
        deadline = time.monotonic() + 10
        alarms: list[dict[str, object]] = []
        while not alarms and time.monotonic() < deadline:
            r = httpx.get(f"{agent.url}/api/v1/alarms?active=true", headers=viewer, timeout=5)
            assert r.status_code == 200, r.text
            alarms = r.json()["alarms"]
            time.sleep(0.1)
        assert [a["key"] for a in alarms] == [f"unreachable/enc-01/tcp:{closed}"]
        aid = alarms[0]["id"]
        r = httpx.post(f"{agent.url}/api/v1/alarms/{aid}/ack", headers=viewer, timeout=5)
        assert r.status_code == 403
        r = httpx.post(f"{agent.url}/api/v1/alarms/{aid}/ack", headers=operator, timeout=5)
        assert r.status_code == 200 and r.json()["acked_by"] == "operator"
        dev = httpx.get(f"{agent.url}/api/v1/devices/enc-01", headers=viewer, timeout=5).json()
        assert dev["state"] == "down" and dev["probes"][0]["rtt_ms"] is None
