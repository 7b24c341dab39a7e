"""``WS /api/v1/live``: the live protocol of design §8.

Authentication: ``Authorization: Bearer`` on the upgrade request, or a first message
``{"type": "auth", "token": ...}`` within 5 s; a token in the query string is refused (it would
land in access logs). Then ``subscribe`` messages replace the client's set, and the server sends
``samples`` batches at most every 100 ms, plus ``event``, ``overflow`` and ``error`` messages.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from server_agent.auth.service import Principal, TokenInvalid
from server_agent.contract import AuthMessage, ErrorMessage, Role, SubscribeMessage
from server_agent.live.bus import Sample, Subscriber, encode_sample

router = APIRouter()

AUTH_TIMEOUT_S = 5.0
MIN_INTERVAL_S = 0.1  # 10 Hz on average
BURST = 2.0
CLOSE_POLICY = 4401


def _error(detail: str) -> str:
    return ErrorMessage(t=time.time(), detail=detail).model_dump_json()


async def _authenticate(ws: WebSocket) -> Principal | None:
    auth = ws.app.state.services.auth
    header = ws.headers.get("authorization", "")
    try:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise TokenInvalid("Authorization header must be 'Bearer <token>'")
            return auth.verify_access(token.strip())  # type: ignore[no-any-return]
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
        msg = AuthMessage.model_validate_json(raw)
        return auth.verify_access(msg.token)  # type: ignore[no-any-return]
    except TimeoutError:
        detail = "no auth message within 5 s; send {\"type\": \"auth\", \"token\": ...} first"
    except ValidationError:
        detail = "the first message must be {\"type\": \"auth\", \"token\": \"<access token>\"}"
    except TokenInvalid as exc:
        detail = str(exc)
    with suppress(Exception):
        await ws.send_text(_error(detail))
        await ws.close(CLOSE_POLICY, detail[:120])
    return None


async def _sender(ws: WebSocket, sub: Subscriber) -> None:
    """Send what the subscriber has queued, at most 10 batches a second on average.

    A token bucket (10 tokens/s, room for ``BURST``) paces the batches: a client whose
    collectors tick at 10 Hz gets each tick's samples as soon as they exist, in whatever
    phase the collectors run, while faster producers are batched down to 10 Hz. (A fixed
    send schedule would make samples wait up to a whole tick whenever its phase differs from
    the collectors'.)
    """
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    sub.wakeup = wake.set
    tokens, stamp = BURST, loop.time()
    while True:
        await wake.wait()
        now_m = loop.time()
        tokens = min(BURST, tokens + (now_m - stamp) / MIN_INTERVAL_S)
        stamp = now_m
        if tokens < 1.0:
            await asyncio.sleep((1.0 - tokens) * MIN_INTERVAL_S)
            tokens, stamp = 1.0, loop.time()
        tokens -= 1.0
        wake.clear()
        samples, events, dropped = sub.take()
        now = time.time()
        if dropped:
            await ws.send_text(f'{{"type":"overflow","t":{now},"dropped":{dropped}}}')
        for e in events:
            await ws.send_text(e)
        if samples:
            await ws.send_text(f'{{"type":"samples","t":{now},"samples":[{",".join(samples)}]}}')


@router.websocket("/live")
async def live(ws: WebSocket) -> None:
    await ws.accept()
    if "token" in ws.query_params or "access_token" in ws.query_params:
        await ws.send_text(_error("never put a token in the URL; use the Authorization header "
                                  "or a first auth message"))
        await ws.close(CLOSE_POLICY, "token in URL")
        return
    who = await _authenticate(ws)
    if who is None:
        return
    if not who.role.allows(Role.viewer):
        await ws.close(CLOSE_POLICY, "forbidden")
        return
    bus = ws.app.state.services.bus
    sub = Subscriber()
    bus.attach(sub)
    sender = asyncio.create_task(_sender(ws, sub))
    try:
        while True:
            raw = await ws.receive_text()
            try:
                data = json.loads(raw)
                if not isinstance(data, dict) or data.get("type") != "subscribe":
                    raise ValueError(f"unknown message type {data.get('type')!r}"
                                     if isinstance(data, dict) else "not a JSON object")
                msg = SubscribeMessage.model_validate(data)
            except (ValueError, ValidationError) as exc:
                sub.push_event(_error(
                    f"bad message: {str(exc).splitlines()[0]}; expected "
                    '{"type": "subscribe", "series": ["<glob>"], "match": {}}'
                ))
                continue
            sub.subscribe(msg.series, msg.match)
            # give the new subscriber the latest value of each series at once
            latest = []
            for key, buf in list(bus.buffers.items()):
                if sub.wants(key) and buf.latest is not None:
                    latest.append((key, buf.latest))
            for (name, labels), (t, v) in latest:
                sub.push_sample(encode_sample(Sample(name, labels, t, v)))
    except WebSocketDisconnect:
        pass
    finally:
        bus.detach(sub)
        sender.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await sender
