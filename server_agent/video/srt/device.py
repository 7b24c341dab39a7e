"""Device-reported SRT figures: the encoder's / decoder's own statistics from its API.

The agent holds no SRT socket of such a link (design §9): a driver asks the device. A thread
polls the driver once a second; the 10 Hz tick republishes the latest reading, so the series
never stops. A device that does not answer is reported as disconnected (counts kept, rates 0,
RTT and buffer null) with the reason in ``error``.

    SrtDeviceDriver        read() -> SrtLegStats (mode "device"); raises DeviceReadError
     └── SimMakitoDriver   the simulated Makito-like encoder's ``GET /api/v1/status`` "srt"
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Protocol

from pydantic import ValidationError

from server_agent.contract import SrtLegStats
from server_agent.video.srt.advisor import advise
from server_agent.video.srt.stats import WINDOW_S
from server_agent.video.srt.url import HostPort

POLL_S = 1.0
HTTP_TIMEOUT_S = 2.0


class DeviceReadError(Exception):
    """The device's API did not give SRT figures; the message says why."""


class SrtDeviceDriver(Protocol):
    def read(self) -> SrtLegStats: ...


class SimMakitoDriver:
    """``GET http://API/api/v1/status`` -> its ``srt`` object (the simulator's field names
    are those of :class:`SrtLegStats`). A real Makito driver would map its own API here."""

    def __init__(self, api: HostPort) -> None:
        self.url = f"http://{api}/api/v1/status"

    def read(self) -> SrtLegStats:
        try:
            with urllib.request.urlopen(self.url, timeout=HTTP_TIMEOUT_S) as resp:
                doc = json.loads(resp.read(1_000_000))
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise DeviceReadError(f"{self.url}: {exc}") from None
        return parse_status(doc, self.url)


def parse_status(doc: object, where: str) -> SrtLegStats:
    """The ``srt`` object of a status document (fields flypack does not know are ignored)."""
    srt = doc.get("srt") if isinstance(doc, dict) else None
    if not isinstance(srt, dict):
        raise DeviceReadError(f"{where} reports no SRT statistics")
    known = {k: v for k, v in srt.items() if k in SrtLegStats.model_fields and k != "advice"}
    try:
        return SrtLegStats.model_validate({**known, "mode": "device"})
    except ValidationError as exc:
        raise DeviceReadError(f"{where}: unexpected SRT figures ({exc.error_count()} bad "
                              "fields)") from None


DRIVERS = {"sim-makito": SimMakitoDriver}


class DevicePoller:
    """Polls a driver in a thread; :attr:`latest` is what the 10 Hz tick publishes."""

    def __init__(self, driver: SrtDeviceDriver) -> None:
        self.driver = driver
        self.latest = SrtLegStats(mode="device", state="connecting")
        self.error: str | None = None
        self.polls = 0
        self._window: deque[tuple[float, int, int, int]] = deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="srt device", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=HTTP_TIMEOUT_S + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(POLL_S)

    def poll(self) -> None:
        try:
            st = self.driver.read()
            self.error = None
            w = self._window
            w.append((time.monotonic(), st.packets_received, st.packets_lost,
                      st.packets_dropped))
            while len(w) > 2 and w[-1][0] - w[0][0] > WINDOW_S:
                w.popleft()
            (_, r0, l0, d0), (_, r1, l1, d1) = w[0], w[-1]
            advice = advise(st.latency_ms, st.rtt_ms, r1 - r0, l1 - l0, d1 - d0) \
                if len(w) > 1 else None
            self.latest = st.model_copy(update={"advice": advice})
        except DeviceReadError as exc:
            self.error = str(exc)
            prev = self.latest
            self.latest = prev.model_copy(update={
                "state": "disconnected", "rtt_ms": None, "receive_buffer_ms": None,
                "receive_rate_bps": 0.0, "send_rate_bps": 0.0, "bandwidth_bps": None})
        self.polls += 1
