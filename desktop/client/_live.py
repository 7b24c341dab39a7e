"""``LiveStream``: the agent's live WebSocket (design §8) with reconnect and re-subscribe.

    stream = LiveStream(client, ["flypack_probe_*"], on_link=show_link_state)
    async for msg in stream.messages():      # SamplesMessage | EventMessage | ...
        ...

or, callback style (what the UI uses): ``await stream.run(handle)``. The stream connects to
``WS /api/v1/live`` with the ``Authorization`` header (never a token in the URL), sends the
subscription, and after any drop reconnects with exponential backoff (plus jitter), refreshing
the token when the agent refused it, and subscribes again. ``on_link`` hears every change of
the link state so the UI can mark data stale. Only :class:`AuthFailed` (log in again) ends
``run`` with an exception; ``close()`` ends it normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import httpx
from httpx_ws import AsyncWebSocketSession, HTTPXWSException, WebSocketUpgradeError, aconnect_ws
from pydantic import Field, TypeAdapter, ValidationError

from desktop.client._agent import AgentClient
from desktop.client._exceptions import AgentError, AuthFailed
from server_agent.contract import ErrorMessage, EventMessage, OverflowMessage, SamplesMessage

__all__ = ["Backoff", "LinkState", "LinkStatus", "LiveMessage", "LiveStream", "parse_message"]

log = logging.getLogger("flypack.desktop.live")

LiveMessage = SamplesMessage | EventMessage | OverflowMessage | ErrorMessage
_MESSAGE: TypeAdapter[LiveMessage] = TypeAdapter(
    Annotated[LiveMessage, Field(discriminator="type")]
)
CLOSE_POLICY = 4401
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def parse_message(raw: str) -> LiveMessage | None:
    """One message from the agent; ``None`` for types this desktop does not know (yet)."""
    try:
        return _MESSAGE.validate_json(raw)
    except ValidationError as exc:
        try:
            kind = json.loads(raw).get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind not in ("samples", "event", "overflow", "error"):
            log.debug("ignoring live message of unknown type %r", kind)
            return None
        log.warning("malformed %s message from the agent: %s", kind, str(exc).splitlines()[0])
        return None


class LinkState(StrEnum):
    connecting = "connecting"
    up = "up"
    down = "down"  # dropped; retrying
    closed = "closed"  # closed by us, or for good (auth)


@dataclass(frozen=True)
class LinkStatus:
    state: LinkState
    detail: str = ""
    retry_in_s: float | None = None
    since: float = 0.0  # Unix time of the change


class Backoff:
    """Exponential backoff with full jitter: ``base * 2**n`` capped at ``cap`` seconds."""

    def __init__(self, base: float = 0.5, cap: float = 10.0,
                 rand: Callable[[], float] = random.random) -> None:
        self.base, self.cap, self._rand = base, cap, rand
        self.attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * float(2**self.attempt))
        self.attempt += 1
        return ceiling / 2 + self._rand() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0


class LiveStream:
    def __init__(
        self,
        client: AgentClient,
        series: Sequence[str],
        match: Mapping[str, str] | None = None,
        *,
        on_link: Callable[[LinkStatus], None] | None = None,
        backoff: Backoff | None = None,
        ping_interval_s: float = 10.0,
    ) -> None:
        self.client = client
        self.series = list(series)
        self.match = dict(match or {})
        self.on_link = on_link or (lambda _s: None)
        self.backoff = backoff or Backoff()
        self.ping_interval_s = ping_interval_s
        self.status = LinkStatus(LinkState.closed)
        self._ws: AsyncWebSocketSession | None = None
        self._closed = False
        self._wake = asyncio.Event()

    # --- control -----------------------------------------------------------------------

    def subscribe(self, series: Sequence[str], match: Mapping[str, str] | None = None) -> None:
        """Replace the subscription; sent at once when connected, and after every reconnect."""
        self.series, self.match = list(series), dict(match or {})
        ws = self._ws
        if ws is not None:
            asyncio.get_running_loop().create_task(self._send_subscribe(ws))

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def reconnect_now(self) -> None:
        """Skip the rest of the current backoff wait (e.g. the user pressed 'retry')."""
        self._wake.set()

    # --- running -----------------------------------------------------------------------

    async def messages(self, max_queue: int = 10000) -> AsyncIterator[LiveMessage]:
        """Async-iterator view of :meth:`run` (the session lives in its own task)."""
        queue: asyncio.Queue[LiveMessage | BaseException | None] = asyncio.Queue(max_queue)

        def put(msg: LiveMessage) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(msg)

        async def pump() -> None:
            try:
                await self.run(put)
                await queue.put(None)
            except BaseException as exc:  # handed to the consumer, re-raised there
                await queue.put(exc)

        task = asyncio.get_running_loop().create_task(pump())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self, handle: Callable[[LiveMessage], None]) -> None:
        """Connect, subscribe, deliver messages to ``handle``; reconnect until :meth:`close`."""
        self._closed = False
        try:
            while not self._closed:
                self._set(LinkState.connecting)
                reason = await self._session(handle)
                if self._closed:
                    break
                delay = self.backoff.next()
                self._set(LinkState.down, reason, retry_in_s=delay)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
        except AuthFailed as exc:
            self._set(LinkState.closed, str(exc))
            raise
        finally:
            self._ws = None
            if self.status.state is not LinkState.closed:
                self._set(LinkState.closed, "live link closed")

    async def _session(self, handle: Callable[[LiveMessage], None]) -> str:
        """One connection; returns why it ended. Raises AuthFailed when re-login is needed."""
        try:
            token = await self.client.access_token()
        except AuthFailed:
            raise
        except AgentError as exc:
            return str(exc)
        url = self.client.base_url + "/api/v1/live"
        reason = "the live link closed"
        ws: AsyncWebSocketSession
        try:
            async with aconnect_ws(
                url, self.client.http, headers={"Authorization": f"Bearer {token}"},
                max_message_size_bytes=MAX_MESSAGE_BYTES,
                keepalive_ping_interval_seconds=self.ping_interval_s,
                keepalive_ping_timeout_seconds=self.ping_interval_s,
            ) as ws:
                reason = await self._receive(ws, handle)
        except WebSocketUpgradeError as exc:
            return await self._upgrade_refused(exc.response)
        except AuthFailed:
            raise
        except (httpx.HTTPError, HTTPXWSException, OSError) as exc:
            reason = f"cannot reach the live feed at {url}: {exc or type(exc).__name__}"
        except BaseExceptionGroup as group:
            auth = group.subgroup(AuthFailed)
            if auth is not None:
                raise auth.exceptions[0] from None
            if group.subgroup(asyncio.CancelledError) is not None:
                raise asyncio.CancelledError from None
            reason = f"the live link dropped: {group.exceptions[0]!r}"
        finally:
            self._ws = None
        return reason

    async def _receive(self, ws: AsyncWebSocketSession,
                       handle: Callable[[LiveMessage], None]) -> str:
        self._ws = ws
        await self._send_subscribe(ws)
        self.backoff.reset()
        self._set(LinkState.up)
        while not self._closed:
            try:
                raw = await ws.receive_text()
            except HTTPXWSException as exc:
                code = getattr(exc, "code", None)
                if code == CLOSE_POLICY:
                    # token expired or revoked: refresh (raises AuthFailed if that fails too)
                    await self.client.access_token(force_refresh=True)
                    return "the agent asked us to authenticate again"
                return f"the live link dropped ({type(exc).__name__}{f' {code}' if code else ''})"
            msg = parse_message(raw)
            if msg is None:
                continue
            if isinstance(msg, ErrorMessage):
                log.warning("live feed error from the agent: %s", msg.detail)
            handle(msg)
        return "closed"

    async def _send_subscribe(self, ws: AsyncWebSocketSession) -> None:
        payload = {"type": "subscribe", "series": self.series, "match": self.match}
        with contextlib.suppress(HTTPXWSException, OSError):
            await ws.send_text(json.dumps(payload))

    async def _upgrade_refused(self, resp: httpx.Response) -> str:
        if resp.status_code in (401, 403):
            await self.client.access_token(force_refresh=True)
            return "the agent refused the live token; retrying with a fresh one"
        if resp.status_code == 404:
            return "this agent has no live feed (/api/v1/live); update the agent"
        return f"the agent refused the live feed (HTTP {resp.status_code})"

    def _set(self, state: LinkState, detail: str = "", retry_in_s: float | None = None) -> None:
        self.status = LinkStatus(state, detail, retry_in_s, time.time())
        try:
            self.on_link(self.status)
        except Exception:  # a UI callback must never kill the link
            log.exception("on_link callback failed")
