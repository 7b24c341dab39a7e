"""The live WebSocket protocol (design §8), in process."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from server_agent.live.bus import sample
from server_agent.runtime import Services


def _publish(client: TestClient, services: Services, *samples: Any) -> None:
    # publish on the app's own event loop, as a collector would
    assert client.portal is not None
    client.portal.call(lambda: services.bus.publish(list(samples)))


def _next(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(50):
        msg: dict[str, Any] = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind} message")


def test_header_auth_subscribe_and_receive(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    with client.websocket_connect(
        "/api/v1/live", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    ) as ws:
        ws.send_json({"type": "subscribe", "series": ["flypack_probe_*"],
                      "match": {"device": "enc-01"}})
        _publish(client, services,
                 sample("flypack_probe_rtt_seconds", {"device": "enc-02"}, 0.5),
                 sample("flypack_probe_rtt_seconds", {"device": "enc-01"}, 0.25),
                 sample("flypack_probe_rtt_seconds", {"device": "enc-01"}, None))
        msg = _next(ws, "samples")
        assert isinstance(msg["t"], float)
        got = [(s["labels"]["device"], s["v"]) for s in msg["samples"]]
        assert got == [("enc-01", 0.25), ("enc-01", None)]


def test_first_message_auth(client: TestClient, services: Services,
                            tokens: dict[str, str]) -> None:
    with client.websocket_connect("/api/v1/live") as ws:
        ws.send_json({"type": "auth", "token": tokens["viewer"]})
        ws.send_json({"type": "subscribe", "series": ["*"]})
        _publish(client, services, sample("x_series", {}, 1.0))
        assert _next(ws, "samples")["samples"][0]["series"] == "x_series"


def test_new_subscription_gets_latest_values_at_once(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    _publish(client, services, sample("flypack_probe_up", {"device": "enc-01"}, 1.0))
    with client.websocket_connect(
        "/api/v1/live", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    ) as ws:
        ws.send_json({"type": "subscribe", "series": ["flypack_probe_up"]})
        assert _next(ws, "samples")["samples"][0]["v"] == 1.0


@pytest.mark.parametrize("first", [
    {"type": "auth", "token": "not-a-jwt"},
    {"type": "subscribe", "series": ["*"]},
])
def test_bad_auth_is_refused_with_an_error_message(client: TestClient, first: dict[str, Any]
                                                   ) -> None:
    with client.websocket_connect("/api/v1/live") as ws:
        ws.send_json(first)
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["detail"]
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4401


def test_token_in_query_string_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    with client.websocket_connect(f"/api/v1/live?token={tokens['viewer']}") as ws:
        msg = ws.receive_json()
        assert msg["type"] == "error" and "URL" in msg["detail"]


def test_bad_message_gets_error_and_connection_survives(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    with client.websocket_connect(
        "/api/v1/live", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    ) as ws:
        ws.send_text("{not json")
        assert "bad message" in _next(ws, "error")["detail"]
        ws.send_json({"type": "subscribe", "series": "not-a-list"})
        assert _next(ws, "error")
        ws.send_json({"type": "subscribe", "series": ["ok"]})
        _publish(client, services, sample("ok", {}, 2.0))
        assert _next(ws, "samples")["samples"][0]["v"] == 2.0


def test_events_are_delivered(client: TestClient, services: Services,
                              tokens: dict[str, str]) -> None:
    with client.websocket_connect(
        "/api/v1/live", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    ) as ws:
        ws.send_json({"type": "subscribe", "series": []})
        assert client.portal is not None
        client.portal.call(lambda: services.bus.publish_event("alarm.raised", {"id": 7}))
        ev = _next(ws, "event")
        assert ev["kind"] == "alarm.raised" and ev["data"]["id"] == 7


async def test_sender_reports_overflow_before_the_remaining_samples() -> None:
    import asyncio
    import json

    from server_agent.api.live import _sender
    from server_agent.live.bus import LiveBus, Subscriber

    class FakeWs:
        def __init__(self) -> None:
            self.sent: list[dict[str, Any]] = []

        async def send_text(self, text: str) -> None:
            self.sent.append(json.loads(text))

    bus, sub, ws = LiveBus(), Subscriber(max_pending=10), FakeWs()
    sub.subscribe(["*"], {})
    bus.attach(sub)
    task = asyncio.create_task(_sender(ws, sub))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    bus.publish(sample("x", {}, float(i)) for i in range(25))  # a client too slow for this
    for _ in range(100):
        if len(ws.sent) >= 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert ws.sent[0] == {"type": "overflow", "t": ws.sent[0]["t"], "dropped": 15}
    assert [s["v"] for s in ws.sent[1]["samples"]] == [float(i) for i in range(15, 25)]
