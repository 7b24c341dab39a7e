"""SRT figures from a real agent to the desktop's Streams tab: an srt:// stream in the agent's
config, ffmpeg calling its listener over loopback; the desktop client (login, GET /streams,
the live WebSocket with the tab's subscription globs) fills the stream store, and the Streams
panel shows the leg's SRT line and draws the SRT curves. The picture: streams-srt.png."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from desktop.client import AgentClient, LiveStream
from desktop.model.stream_path import srt_lines
from desktop.model.streams import STREAM_SERIES, StreamStore, has_srt
from desktop.ui import theme
from desktop.ui.qt import QApplication
from desktop.ui.streams import StreamsPanel
from server_agent.contract import SamplesMessage, Stream
from tests.e2e.fleet_support import SHOTS
from tests.srt_support import ffmpeg_srt
from tests.support import PASSWORDS, agent_process, free_port, require_binary, stop_process
from tests.ts_media import encode

pytestmark = pytest.mark.slow
WANT = {"SRT RTT ms leg 1", "SRT latency ms leg 1", "SRT buffer ms leg 1",
        "SRT lost pkt/s leg 1", "SRT too-late drops pkt/s leg 1"}


async def collect(url: str, store: StreamStore, limit_s: float = 30.0) -> list[Stream]:
    """Live samples into ``store`` until every SRT curve has points; then the stream list."""
    client = AgentClient(url)
    await client.login("viewer", PASSWORDS["viewer"])
    live = LiveStream(client, STREAM_SERIES)
    task = asyncio.create_task(live.run(
        lambda m: store.apply(m.samples) if isinstance(m, SamplesMessage) else None))

    def enough() -> bool:
        got = {k[1]: len(b) for k, b in store.buffers.items() if k[0] == "cam-srt"}
        return all(got.get(name, 0) >= 10 for name in WANT)

    deadline = time.monotonic() + limit_s
    try:
        while not enough():
            if time.monotonic() > deadline:
                pytest.fail(f"SRT curves incomplete after {limit_s} s: "
                            f"{sorted((k[1], len(b)) for k, b in store.buffers.items())}")
            await asyncio.sleep(0.2)
        return await client.streams()
    finally:
        live.close()
        await asyncio.wait_for(task, 10)
        await client.aclose()


def test_srt_figures_reach_the_streams_tab(qtbot: QtBot, qapp: QApplication,
                                           tmp_path: Path) -> None:
    require_binary("ffmpeg")
    clip = encode(tmp_path / "clip.ts", seconds=4)
    port = free_port(kind=socket.SOCK_DGRAM)
    toml = ('\n[[streams]]\nid = "cam-srt"\ntitle = "camera over SRT"\n'
            f'legs = ["srt://127.0.0.1:{port}?mode=listener&latency=200"]\n')
    store = StreamStore()
    with agent_process(tmp_path, toml) as agent:
        src = ffmpeg_srt(clip, f"srt://127.0.0.1:{port}?mode=caller&latency=200000"
                         "&pkt_size=1316", 25)
        try:
            streams = asyncio.run(collect(agent.url, store))
        finally:
            stop_process(src)
    [s] = [x for x in streams if x.id == "cam-srt"]
    assert has_srt(s)
    line = srt_lines(s)[0]
    assert line.startswith("leg 1 SRT (monitor): ✓ connected · RTT "), line
    assert "/ latency 200 ms" in line
    latency = store.buffers[("cam-srt", "SRT latency ms leg 1")].arrays()[1]
    assert set(latency[~np.isnan(latency)].tolist()) == {200.0}  # ms, as negotiated
    drops = store.buffers[("cam-srt", "SRT too-late drops pkt/s leg 1")].arrays()[1]
    assert drops.max() == 0.0  # a clean loopback link: nothing too late

    theme.apply(qapp, theme.DARK)
    panel = StreamsPanel(store)
    qtbot.addWidget(panel)
    panel.resize(1350, 570)  # the tab's size in a 1366x768 dashboard
    panel.show()
    panel.set_streams([s])
    assert not panel.srt_info.isHidden() and "SRT (monitor)" in panel.srt_info.text()
    panel.pick_plot("SRT buffer vs latency ms")
    assert panel.df_plot.point_count() >= 20
    panel.plot.refresh(force=True)
    assert panel.plot.point_count() > 0  # the TS and leg bitrate of the same stream
    qapp.processEvents()
    assert panel.grab().save(str(SHOTS / "streams-srt.png"))
