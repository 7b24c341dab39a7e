"""An srt:// stream in a real agent's config (`flypack-agent serve`): ffmpeg calls the agent's
listener with a passphrase the credential store holds; the API shows the leg's SRT figures and
/metrics exports the flypack_srt_* series; the source going away raises the
stream_srt_disconnected alarm."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server_agent.auth.credentials import CredentialStore
from tests.srt_support import ffmpeg_srt, wait_udp_bound
from tests.support import agent_process, free_port, stop_process
from tests.ts_media import encode

pytestmark = pytest.mark.slow


def wait_for(fn: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_config_srt_stream_in_api_metrics_and_alarms(tmp_path: Path) -> None:
    clip = encode(tmp_path / "clip.ts", seconds=4)
    port = free_port(kind=socket.SOCK_DGRAM)
    # the agent reads its credential store when the stream opens: write the secret first
    CredentialStore(tmp_path / "state" / "credentials.json").set("cam-srt", "flypack-agent-pw")
    toml = (f'\n[metrics]\nloopback_only = true\n\n[alarms]\nclear_after_s = 2.0\n\n'
            f'[[streams]]\nid = "cam-srt"\n'
            f'legs = ["srt://127.0.0.1:{port}?mode=listener&latency=200'
            '&passphrase_ref=cam-srt"]\n')
    with agent_process(tmp_path, toml) as agent:
        h = {"Authorization": f"Bearer {agent.token('viewer')}"}

        def stream() -> dict[str, Any]:
            r = httpx.get(f"{agent.url}/api/v1/streams/cam-srt", headers=h, timeout=10)
            r.raise_for_status()
            return dict(r.json())

        wait_udp_bound(port)  # the agent's listener is up
        src = ffmpeg_srt(clip, f"srt://127.0.0.1:{port}?mode=caller&latency=200000"
                         "&passphrase=flypack-agent-pw&pkt_size=1316", 6)
        try:
            s = wait_for(lambda: (x := stream())["leg_status"][0]["srt"]["state"] == "connected"
                         and x["leg_status"][0]["srt"]["packets_received"] > 50 and x,
                         "the SRT leg to connect")
            srt = s["leg_status"][0]["srt"]
            assert srt["mode"] == "monitor" and srt["encrypted"] is True
            assert srt["latency_ms"] == 200
            assert s["leg_status"][0]["up"] is True
            text = httpx.get(f"{agent.url}/metrics", timeout=10).text
            assert ('flypack_srt_connected{flypack="flypack-test",leg="1",mode="monitor",'
                    'stream="cam-srt"} 1' in text)
            assert "flypack_srt_rtt_seconds_max{" in text
        finally:
            stop_process(src)
        gone = wait_for(lambda: "srt_disconnected" in (x := stream())["alarms"] and x,
                        "the srt_disconnected alarm", timeout=15)
        assert gone["leg_status"][0]["srt"]["state"] == "disconnected"
        assert gone["leg_status"][0]["srt"]["rtt_ms"] is None
        assert "flypack-agent-pw" not in agent.log.read_text(errors="replace")
