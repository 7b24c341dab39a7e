"""Device-reported SRT figures (issue 4, mode 1) through the simulated Makito-like encoder's
HTTP status API: stream-check and the live stream follow the sim's fault injection."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from server_agent.contract import SimFault, StreamSpec
from server_agent.live.bus import Sample
from server_agent.video.streams.live import LiveStream
from tests.sim_support import running_segment, sim_section
from tests.support import AGENT_BIN

pytestmark = pytest.mark.slow


def test_device_mode_follows_fault_injection() -> None:
    cfg = sim_section(streams=0)
    with running_segment(cfg) as st:
        enc = st.seg.by_name["enc-01"]
        url = (f"srt://{enc.address}:9000?stats=device&api={enc.address}:{cfg.http_port}")
        r = subprocess.run([AGENT_BIN, "stream-check", url, "--seconds", "1.5", "--json"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["srt"]["mode"] == "device" and doc["srt"]["state"] == "connected"
        assert doc["srt"]["rtt_ms"] == 2.0 and doc["srt"]["latency_ms"] == 120

        ls = LiveStream(StreamSpec(id="enc1", legs=[url]), "sim", clear_after_s=1.0)
        seen: dict[str, Any] = {}
        faults = st.seg.faults

        async def run() -> list[Sample]:
            out: list[Sample] = []
            loop = asyncio.get_running_loop()
            ls.open(loop)
            assert ls.rx is not None, ls.error
            lossy = SimFault(loss_ratio=0.2, latency_ms=40)  # RTT 82 ms: one ARQ round
            plan: list[tuple[float, Callable[[], object]]] = [
                    (2.0, lambda: faults.set("enc-01", lossy)),
                    (5.5, lambda: seen.update(lossy=ls.leg_status()[0])),
                    (5.6, lambda: faults.set("enc-01", SimFault(down=True))),
                    (8.5, lambda: seen.update(down=ls.leg_status()[0],
                                              alarms=dict(ls.active))),
                    (8.6, lambda: faults.clear("enc-01"))]
            t0 = loop.time()
            try:
                while loop.time() - t0 < 11.5:
                    await asyncio.sleep(0.1)
                    out += ls.tick("lab", time.time())
                    while plan and loop.time() - t0 >= plan[0][0]:
                        plan.pop(0)[1]()
                seen["end"] = ls.leg_status()[0]
            finally:
                ls.close()
            return out

        samples = asyncio.run(run())
    lossy, down, end = seen["lossy"].srt, seen["down"].srt, seen["end"].srt
    assert lossy.mode == "device" and lossy.rtt_ms == 82.0
    assert lossy.packets_lost > 0 and lossy.packets_dropped > 0
    assert lossy.advice is not None and "packets dropped" in lossy.advice
    assert down.state == "disconnected" and down.rtt_ms is None and seen["down"].up is False
    assert "srt_disconnected" in seen["alarms"]
    assert end.state == "connected" and end.reconnects == 1
    assert "no_signal" not in ls.active  # the agent receives no payload in device mode
    modes = {dict(s.labels)["mode"] for s in samples if s.series.startswith("flypack_srt_")}
    assert modes == {"device"}
    conn = [s.v for s in samples if s.series == "flypack_srt_connected"]
    assert len(conn) > 100 and 0.0 in conn and conn[-1] == 1.0
