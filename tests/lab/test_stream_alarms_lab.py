"""The agent's live stream analysis (LiveStream, as StreamService runs it) receiving in a lab
namespace: a leg that arrives with its DSCP stripped raises the ``dscp`` alarm and shows the
observed marking in the metrics; the correctly marked leg raises nothing."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator

import pytest

from server_agent.contract import StreamSpec
from server_agent.live.bus import Sample
from server_agent.video import metric_defs as m
from server_agent.video.streams.live import LiveStream
from tests.lab.stream_netns import StreamLab, in_netns, stream_lab


@pytest.fixture
def lab() -> Iterator[StreamLab]:
    yield from stream_lab()


async def _run(lab: StreamLab, ls: LiveStream, spec: dict[str, object]
               ) -> tuple[list[tuple[str, str, str]], list[Sample], list[int]]:
    loop = asyncio.get_running_loop()
    with in_netns(lab.rx):  # the receiving sockets (and joins) live in the rx namespace
        ls.open(loop)
    assert ls.error is None, ls.error
    transitions: list[tuple[str, str, str]] = []
    samples: list[Sample] = []
    sender = await asyncio.create_subprocess_exec(
        *lab.exec(lab.tx, sys.executable, "-m", "tests.lab.rtp_sender", json.dumps(spec)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 25
        done_at: float | None = None
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            samples += ls.tick("lab", time.time())
            transitions += ls.transitions
            ls.transitions = []  # consumed (as StreamService does)
            if sender.returncode is not None and done_at is None:
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() - done_at > 0.5:
                break
        out, err = await sender.communicate()
        rx = ls.rx
        assert rx is not None
        for i in range(len(rx.legs)):
            rx.read_leg(i)  # whatever is still queued
        final = [leg.stats.dscp_mismatch for leg in rx.legs]
    finally:
        if sender.returncode is None:
            sender.kill()
            await sender.wait()
        ls.close()
    assert sender.returncode == 0, err.decode()
    assert json.loads(out)["sent"] == [spec["count"]] * 2
    return transitions, samples, final


def test_stripped_dscp_raises_the_agents_dscp_alarm(lab: StreamLab) -> None:
    a, b = lab.legs
    spec = StreamSpec(id="lab-dscp", legs=[f"udp://@239.30.1.1:5020?iface={a.rx_if}",
                                           f"udp://@239.30.2.2:5022?iface={b.rx_if}"],
                      expected_dscp=46)
    ls = LiveStream(spec, "api", clear_after_s=5.0)
    send = {"legs": [{"dest": "239.30.1.1", "port": 5020, "local": a.tx_ip, "tos": 0xB8},
                     {"dest": "239.30.2.2", "port": 5022, "local": b.tx_ip, "tos": 0x00}],
            "count": 500, "pps": 250, "rtp": False}
    transitions, samples, mismatched = asyncio.run(_run(lab, ls, send))
    raised = [(rule, msg) for what, rule, msg in transitions if what == "raise"]
    # no_signal may be raised before the sender's first datagram; nothing else but dscp
    dscp_raised = [msg for rule, msg in raised if rule == "dscp"]
    assert {rule for rule, _ in raised} - {"no_signal"} == {"dscp"}, raised
    assert len(dscp_raised) == 1 and "on leg 2 not marked DSCP 46 (seen [0])" in dscp_raised[0]
    dscp = {dict(s.labels)["leg"]: s.v for s in samples if s.series == m.STREAM_DSCP.name}
    assert dscp == {"1": 46.0, "2": 0.0}
    assert mismatched == [0, 500]  # every datagram of leg 2, none of leg 1
    mism = {dict(s.labels)["leg"]: s.v for s in samples
            if s.series == m.STREAM_DSCP_MISMATCH.name}  # the last per-second samples
    assert mism["1"] == 0 and 0 < (mism["2"] or 0) <= 500
    assert "dscp" in ls.active
