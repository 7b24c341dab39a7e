"""LiveStream: message parsing, backoff, and reconnect + re-subscribe against an ASGI agent."""

from __future__ import annotations

import asyncio
import json

from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from desktop.client import (
    AgentClient,
    Backoff,
    LinkState,
    LinkStatus,
    LiveMessage,
    LiveStream,
    parse_message,
)
from server_agent.contract import ErrorMessage, EventMessage, OverflowMessage, SamplesMessage


def test_parse_each_type() -> None:
    s = parse_message('{"type":"samples","t":1.0,"samples":[{"series":"flypack_probe_up",'
                      '"labels":{"device":"a"},"t":1.0,"v":null}]}')
    assert isinstance(s, SamplesMessage) and s.samples[0].v is None
    assert isinstance(parse_message('{"type":"event","t":1,"kind":"alarm.raised","data":{}}'),
                      EventMessage)
    assert isinstance(parse_message('{"type":"overflow","t":1,"dropped":3}'), OverflowMessage)
    assert isinstance(parse_message('{"type":"error","t":1,"detail":"x"}'), ErrorMessage)
    assert parse_message('{"type":"future-thing","t":1}') is None
    assert parse_message('{"type":"samples"}') is None  # malformed: logged, skipped
    assert parse_message("not json") is None


def test_backoff_grows_caps_and_resets() -> None:
    b = Backoff(base=0.5, cap=4.0, rand=lambda: 1.0)
    assert [b.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    b.reset()
    assert b.next() == 0.5
    low = Backoff(base=0.5, cap=4.0, rand=lambda: 0.0)
    assert low.next() == 0.25  # full jitter keeps at least half


def live_app(subscribes: list[dict[str, object]], auth_headers: list[str]) -> Starlette:
    connections = 0

    async def login(_: object) -> JSONResponse:
        return JSONResponse({"access_token": "acc", "refresh_token": "ref",
                             "token_type": "bearer", "expires_in": 900.0,
                             "role": "viewer", "username": "v"})

    async def live(ws: WebSocket) -> None:
        nonlocal connections
        connections += 1
        auth_headers.append(ws.headers.get("authorization", ""))
        await ws.accept()
        subscribes.append(json.loads(await ws.receive_text()))
        await ws.send_text(json.dumps({
            "type": "samples", "t": 1.0, "samples": [{
                "series": "flypack_probe_rtt_seconds",
                "labels": {"device": "enc-01", "probe": "udp:7"},
                "t": float(connections), "v": 0.001 * connections}]}))
        if connections == 1:
            await ws.close(1011)  # the first connection drops: the client must come back
            return
        await ws.send_text('{"type":"event","t":2,"kind":"alarm.raised","data":{"id":1}}')
        await asyncio.sleep(30)

    return Starlette(routes=[Route("/api/v1/auth/login", login, methods=["POST"]),
                             WebSocketRoute("/api/v1/live", live)])


async def test_reconnects_and_resubscribes() -> None:
    client = AgentClient("http://agent.test",
                         transport=ASGIWebSocketTransport(live_app(SUBSCRIBES, HEADERS)))
    async with client:
        await run_stream(client)


SUBSCRIBES: list[dict[str, object]] = []
HEADERS: list[str] = []


async def run_stream(client: AgentClient) -> None:
    subscribes, headers = SUBSCRIBES, HEADERS
    await client.login("v", "pw")
    states: list[LinkStatus] = []
    stream = LiveStream(client, ["flypack_probe_*"], {"flypack": "fp-1"}, on_link=states.append,
                        backoff=Backoff(base=0.01, cap=0.02))
    got: list[LiveMessage] = []
    async with asyncio.timeout(10):
        async for msg in stream.messages():
            got.append(msg)
            if isinstance(msg, EventMessage):
                break
    kinds = [m.type for m in got]
    assert kinds == ["samples", "samples", "event"]
    assert subscribes == [{"type": "subscribe", "series": ["flypack_probe_*"],
                           "match": {"flypack": "fp-1"}}] * 2
    assert headers == ["Bearer acc", "Bearer acc"]
    seq = [s.state for s in states]
    assert seq[:4] == [LinkState.connecting, LinkState.up, LinkState.down, LinkState.connecting]
    assert LinkState.up in seq[4:]
