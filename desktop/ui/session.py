"""One logged-in session: feeds the dashboard from the agent (live stream + slow polls).

    AgentClient ─ devices() every 10 s ─┐
                ─ alarms()  every 5 s ──┤ (and at once on an alarm.* live event)
    LiveStream ── samples ──────────────┴─► DeviceBoard / SeriesStore ─► dashboard views

Only :class:`AuthFailed` ends a session (``ended`` signal with the reason: log in again);
every other failure is shown in the dashboard banner and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from desktop.client import (
    AgentClient,
    AgentError,
    AuthFailed,
    FeatureUnavailable,
    LinkState,
    LinkStatus,
    LiveMessage,
    LiveStream,
    PermissionDenied,
)
from desktop.ui.dashboard import Dashboard
from desktop.ui.errors import describe, run_op
from desktop.ui.qt import QObject, Signal
from server_agent.contract import (
    ErrorMessage,
    EventMessage,
    OverflowMessage,
    Role,
    SamplesMessage,
)

log = logging.getLogger("flypack.desktop.session")

LIVE_SERIES = ["flypack_probe_*"]
DEVICES_EVERY_S = 10.0
ALARMS_EVERY_S = 5.0


class LiveSession(QObject):
    ended = Signal(str)  # why (shown on the login view)

    def __init__(self, client: AgentClient, dashboard: Dashboard,
                 status: Callable[[str], None] | None = None) -> None:
        super().__init__(dashboard)
        self.client = client
        self.dash = dashboard
        self.status = status or (lambda _t: None)
        self.stream = LiveStream(client, LIVE_SERIES, on_link=self._on_link)
        self._tasks: list[asyncio.Task[None]] = []
        self._alarms_now = asyncio.Event()
        self._alarms_available = True
        self.samples_seen = 0
        self._last_unknown = 0.0
        dashboard.alarms.ack_requested.connect(self.ack)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        s = self.client.session
        if s is not None:
            self.dash.alarms.set_role_can_ack(s.allows(Role.operator))
        loop = asyncio.get_event_loop()
        self._tasks = [
            loop.create_task(self._guard(self.stream.run(self._on_message))),
            loop.create_task(self._guard(self._poll_devices())),
            loop.create_task(self._guard(self._poll_alarms())),
        ]

    async def stop(self) -> None:
        self.stream.close()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()

    async def _guard(self, coro: Awaitable[None]) -> None:
        try:
            await coro
        except AuthFailed as exc:
            self.ended.emit(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: log it, show it, keep the rest running
            log.exception("session task failed")
            self.dash.banner.show_message(describe(exc))

    # --- polls ---------------------------------------------------------------------------

    async def refresh_devices(self) -> None:
        devices = await self.client.devices()
        if self.dash.board.set_devices(devices):
            self.dash.devices_reshaped()
        else:
            self.dash.device_model.all_changed()
            self.dash.update_device_title()

    async def _poll_devices(self) -> None:
        while True:
            try:
                await self.refresh_devices()
            except AuthFailed:
                raise
            except AgentError as exc:
                self.dash.banner.show_message(str(exc), "warning")
            await asyncio.sleep(DEVICES_EVERY_S)

    async def refresh_alarms(self) -> None:
        try:
            alarms = await self.client.alarms()
        except FeatureUnavailable as exc:
            self._alarms_available = False
            self.dash.alarms.set_unavailable(str(exc))
            return
        except PermissionDenied as exc:
            self.dash.alarms.set_unavailable(str(exc))
            return
        self._alarms_available = True
        self.dash.alarms.set_alarms(alarms)

    async def _poll_alarms(self) -> None:
        while True:
            try:
                await self.refresh_alarms()
            except AuthFailed:
                raise
            except AgentError as exc:
                self.dash.alarms.note.setText(f"✕ could not load alarms: {exc}")
            self._alarms_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._alarms_now.wait(), ALARMS_EVERY_S)

    def ack(self, alarm_id: int) -> None:
        def done(_: object) -> None:
            self.status(f"alarm {alarm_id} acknowledged")
            self._alarms_now.set()

        def failed(exc: BaseException) -> None:
            self.dash.banner.show_message(describe(exc))
            self._alarms_now.set()

        run_op(self.client.ack_alarm(alarm_id), self.dash.banner.show_message,
               on_success=done, on_failure=failed)

    # --- live ----------------------------------------------------------------------------

    def _on_message(self, msg: LiveMessage) -> None:
        if isinstance(msg, SamplesMessage):
            self.samples_seen += len(msg.samples)
            changed = self.dash.board.apply(msg.samples)
            self.dash.store.apply(msg.samples)
            unknown = any(s.labels.get("device") and self.dash.board.index_of(
                s.labels["device"]) is None for s in msg.samples)
            if changed:
                self.dash.device_model.rows_changed(changed)
            now = time.monotonic()
            if unknown and now - self._last_unknown > DEVICES_EVERY_S:
                # a device the list does not have yet: fetch the list again (rate-limited)
                self._last_unknown = now
                run_op(self.refresh_devices(), self.dash.banner.show_message)
            self.status(self.dash.last_update_text())
        elif isinstance(msg, EventMessage):
            if msg.kind.startswith("alarm.") and self._alarms_available:
                self._alarms_now.set()
        elif isinstance(msg, OverflowMessage):
            self.status(f"live feed: {msg.dropped} samples dropped (link too slow)")
        elif isinstance(msg, ErrorMessage):
            self.dash.banner.show_message(f"live feed: {msg.detail}", "warning")

    def _on_link(self, status: LinkStatus) -> None:
        self.dash.set_link(status)
        if status.state is LinkState.up:
            if self.dash.banner.text.startswith("! Warning: live link"):
                self.dash.banner.hide()
            run_op(self.refresh_devices(), self.dash.banner.show_message)
        elif status.state is LinkState.down:
            self.dash.banner.show_message(f"live link down: {status.detail}; reconnecting",
                                          "warning")
