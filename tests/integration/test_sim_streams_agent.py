"""The simulated encoders' streams analysed by a real agent (what `flypack-agent demo` shows):
clean streams keep every TR 101 290 counter at zero and raise no alarm; a ``ts_errors`` fault
through the simulator's fault API (PUT /api/v1/sim/faults/{device}) shows up as counters and
alarms, and the alarms clear once the fault is cleared."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sim_support import sim_section
from tests.support import agent_process, require_binary


def sim_toml(port: int) -> str:
    cfg = sim_section(streams=2)
    return (f'\n[sim]\nenabled = true\nbase_address = "{cfg.base_address}"\nsnmp = false\n'
            f"echo_port = {cfg.echo_port}\ntcp_port = {cfg.tcp_port}\n"
            f"http_port = {cfg.http_port}\nstreams = 2\nstream_port = {port}\n"
            "stream_mbps = 3.0\n\n[alarms]\nclear_after_s = 3.0\n")


def streams(url: str, h: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{url}/api/v1/streams", headers=h, timeout=10)
    r.raise_for_status()
    return {s["id"]: s for s in r.json()}


def wait_for(fn: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_sim_streams_are_clean_until_a_ts_errors_fault(tmp_path: Path) -> None:
    require_binary("ffmpeg")
    with agent_process(tmp_path, sim_toml(26001 + (int(time.time()) % 500) * 4)) as agent:
        h = {"Authorization": f"Bearer {agent.token('operator')}"}
        ids = {"sim-enc-01", "sim-enc-02"}
        assert ids <= set(streams(agent.url, h))
        wait_for(lambda: all(streams(agent.url, h)[i]["state"] == "ok" for i in ids),
                 "both simulated streams to be received")
        time.sleep(3.0)  # > 3 s of clean stream, across PAT/PMT/PCR/PTS intervals
        clean = streams(agent.url, h)
        for i in ids:
            s = clean[i]
            assert s["alarms"] == [] and s["state"] == "ok", s
            assert set(s["tr101290"].values()) == {0}, s["tr101290"]
            assert 2.8e6 < s["bitrate_bps"] < 3.2e6
            assert s["leg_status"][0]["up"] is True
        so_far = httpx.get(f"{agent.url}/api/v1/alarms", headers=h, timeout=10).json()
        assert [a for a in so_far["alarms"] if a["stream"] in ids] == []  # none, not even
        # a no_signal between the join and the first datagram (active or cleared)
        r = httpx.put(f"{agent.url}/api/v1/sim/faults/enc-01", headers=h, timeout=10,
                      json={"ts_errors": {"drop_per_s": 20, "tei_per_s": 5}})
        assert r.status_code == 200, r.text
        bad = wait_for(lambda: (s := streams(agent.url, h)["sim-enc-01"])["tr101290"][
            "transport_error"] >= 2 and s, "TS errors on enc-01")
        assert bad["tr101290"]["continuity_count_error"] >= 1
        want = {"continuity_count_error", "transport_error"}
        wait_for(lambda: want <= set(streams(agent.url, h)["sim-enc-01"]["alarms"]),
                 "alarms on enc-01")
        other = streams(agent.url, h)["sim-enc-02"]
        assert set(other["tr101290"].values()) == {0} and other["alarms"] == []
        alarms = httpx.get(f"{agent.url}/api/v1/alarms", headers=h, timeout=10).json()
        named = [a for a in alarms["alarms"] if a["stream"] == "sim-enc-01"]
        rules = {a["rule"] for a in named}
        # the symptoms' own alarms or, once the stream's path is judged, one naming the
        # encoder as their cause (transport_error starts at the source)
        assert ({"stream_continuity_count_error", "stream_transport_error"} <= rules
                or any(a["rule"] == "stream_path" and "first failing hop enc-01" in a["message"]
                       and "transport_error" in a["message"] for a in named)), named
        assert httpx.delete(f"{agent.url}/api/v1/sim/faults", headers=h,
                            timeout=10).status_code == 204
        wait_for(lambda: streams(agent.url, h)["sim-enc-01"]["alarms"] == [],
                 "the alarms to clear after the fault", timeout=15)
