"""srt:// legs in the streams service: the API takes them, the leg's SRT figures and 10 Hz
series exist before anyone connects, and a missing secret is the leg's error, not a crash."""

from __future__ import annotations

import asyncio
import socket

from fastapi.testclient import TestClient

from server_agent.contract import StreamSpec
from server_agent.live.bus import labels_of
from server_agent.runtime import Services
from tests.support import free_port


def test_api_accepts_srt_legs_and_refuses_bad_ones(client: TestClient,
                                                   tokens: dict[str, str]) -> None:
    op = {"Authorization": f"Bearer {tokens['operator']}"}
    r = client.post("/api/v1/streams", headers=op, json={
        "id": "srt-1", "legs": ["srt://127.0.0.1:9000?latency=200&passphrase_ref=main"]})
    assert r.status_code == 201, r.text
    bad = client.post("/api/v1/streams", headers=op, json={
        "id": "srt-2", "legs": ["srt://127.0.0.1:9000?passphrase=abcdefghijk"]})
    assert bad.status_code == 422 and "never goes into a URL" in bad.json()["detail"]


async def test_listener_leg_waits_with_series_flowing(services: Services) -> None:
    svc = services.stream_service
    assert svc is not None
    port = free_port(kind=socket.SOCK_DGRAM)
    svc.create(StreamSpec(id="s1", legs=[f"srt://127.0.0.1:{port}?mode=listener"]))
    svc.create(StreamSpec(id="s2", legs=[f"srt://127.0.0.1:{port + 1}?passphrase_ref=nope"]))
    task = asyncio.create_task(svc.run())
    try:
        await asyncio.sleep(0.6)
    finally:
        task.cancel()
    leg = svc.get("s1").leg_status[0]
    assert leg.srt is not None and leg.srt.mode == "monitor"
    assert leg.srt.state == "connecting" and leg.srt.rtt_ms is None and not leg.up
    lab = {"flypack": "flypack-test", "stream": "s1", "leg": "1", "mode": "monitor"}
    assert services.bus.latest("flypack_srt_connected", lab) == 0.0
    rtt = services.bus.buffers.get(("flypack_srt_rtt_seconds", labels_of(lab)))
    assert rtt is not None and rtt.latest is not None and rtt.latest[1] is None  # null, not 0
    bad = svc.get("s2").leg_status[0]
    assert bad.error is not None and "names no secret" in bad.error
