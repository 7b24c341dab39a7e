"""One logged-in session: feeds the dashboard from the agent (live stream + slow polls).

    AgentClient ─ devices() every 10 s ─┐
                ─ alarms()  every 5 s ──┤ (and at once on an alarm.* live event)
                ─ streams() every 5 s ──┤
    LiveStream ── samples ──────────────┴─► DeviceBoard / SeriesStore / StreamStore ─► views
               ── job.* events ─────────────► Jobs tab (which also polls its job's events)

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
    JobsApi,
    LinkState,
    LinkStatus,
    LiveMessage,
    LiveStream,
    PermissionDenied,
)
from desktop.model.streams import STREAM_SERIES
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

LIVE_SERIES = ["flypack_probe_*", *STREAM_SERIES]
DEVICES_EVERY_S = 10.0
ALARMS_EVERY_S = 5.0
STREAMS_EVERY_S = 5.0
HISTORY_STEPS = 600  # points per curve for a history range


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
        dashboard.streams.history_requested.connect(self.load_history)
        dashboard.device_page.save_requested.connect(self.save_device)
        self.jobs = JobsApi(client)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        s = self.client.session
        if s is not None:
            self.dash.alarms.set_role_can_ack(s.allows(Role.operator))
            self.dash.device_page.set_can_edit(s.allows(Role.operator))
        loop = asyncio.get_event_loop()
        self._tasks = [
            loop.create_task(self._guard(self.stream.run(self._on_message))),
            loop.create_task(self._guard(self._poll_devices())),
            loop.create_task(self._guard(self._poll_alarms())),
            loop.create_task(self._guard(self._poll_streams())),
        ]
        self.dash.jobs.attach(self.jobs)

    async def stop(self) -> None:
        self.stream.close()
        await self.dash.jobs.stop()
        for t in self._tasks:
            t.cancel()
        if self._tasks:  # bounded, and never swallows a cancellation of stop() itself
            _, pending = await asyncio.wait(self._tasks, timeout=5)
            for t in pending:
                log.warning("session task did not stop in time: %r", t)
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

    async def refresh_streams(self) -> None:
        try:
            streams = await self.client.streams()
        except (FeatureUnavailable, PermissionDenied) as exc:
            self.dash.streams.set_unavailable(str(exc))
            return
        self.dash.streams.set_streams(streams)

    async def _poll_streams(self) -> None:
        while True:
            try:
                await self.refresh_streams()
            except AuthFailed:
                raise
            except AgentError as exc:
                self.dash.streams.note.setText(f"✕ could not load streams: {exc}")
            await asyncio.sleep(STREAMS_EVERY_S)

    def load_history(self, stream: str, seconds: float) -> None:
        run_op(self._history(stream, seconds), self.dash.streams.note.setText)

    async def _history(self, stream: str, seconds: float) -> None:
        from desktop.model.streams import CURVES, RATES, counter_rate, has_srt

        end = time.time()
        start = end - seconds
        step = max(1.0, seconds / HISTORY_STEPS)
        curves: dict[str, tuple[list[float], list[float | None]]] = {}
        notes = set()
        srt = has_srt(self.dash.streams.current())
        for name, (series, scale) in CURVES.items():
            if name.startswith("SRT") and not srt:
                continue  # no SRT leg: nothing to ask for
            h = await self.client.history(series, {"stream": stream}, start=start, end=end,
                                          step=step)
            notes.add(f"source: {h.source}" + (f" — {h.note}" if h.note else ""))
            for hs in h.series:
                leg = hs.labels.get("leg")
                t = [p[0] for p in hs.points]
                v = [None if p[1] is None else p[1] * scale for p in hs.points]
                curves[f"{name} leg {leg}" if leg else name] = (
                    t, counter_rate(t, v) if name in RATES else v)
        if self.dash.streams.range_s != seconds:
            return  # the user picked another range meanwhile
        self.dash.streams.show_history(curves, start, end)
        self.dash.streams.note.setText("; ".join(sorted(notes)) or "no history")

    def save_device(self, device_id: str, changes: dict[str, str | None]) -> None:
        def done(_: object) -> None:
            self.dash.device_page.saved("saved on the agent")
            run_op(self.refresh_devices(), self.dash.banner.show_message)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FeatureUnavailable):
                self.dash.device_page.set_edit_unavailable(
                    "this agent cannot edit devices yet (it has no PATCH /api/v1/devices/{id});"
                    " update the agent — nothing was changed")
            else:
                self.dash.device_page.saved("")
                self.dash.device_page.edit_note.setText(f"✕ not saved: {describe(exc)}")

        run_op(self.client.patch_device(device_id, changes), self.dash.banner.show_message,
               on_success=done, on_failure=failed)

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
            self.dash.stream_store.apply(msg.samples)
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
            elif msg.kind.startswith("job."):
                self.dash.jobs.on_live_event(msg.kind, msg.data)
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
