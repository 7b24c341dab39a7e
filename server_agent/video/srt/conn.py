"""One SRT connection kept up by a thread: caller or listener, receiving or sending, and
re-established by itself when it breaks.

    thread: open ─► connect / accept ─► receive (on_data) or idle-send ─► broken ─► retry
    tick (10 Hz, the one stats reader): snapshots() = srt_bistats(clear=1) of the live socket
                                         plus the last one taken before a socket was closed

libsrt calls release the GIL (ctypes), so blocking receives with a 100 ms timeout cost nothing
while idle and let :meth:`close` stop the thread within a tick.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from server_agent.video.srt import lib
from server_agent.video.srt.errors import SrtError
from server_agent.video.srt.stats import Snapshot, State

log = logging.getLogger("flypack.srt")
RETRY_S = 1.0
RECV_TIMEOUT_MS = 100
CONNECT_TIMEOUT_MS = 1000
PEER_IDLE_MS = 3000  # a silent peer counts as gone after this (libsrt default is 5 s)


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str | None
    port: int
    mode: str  # caller | listener
    latency_ms: int
    passphrase: str | None
    sender: bool = False  # the relay's outgoing leg

    def __str__(self) -> str:
        return f"srt://{self.host or ''}:{self.port}?mode={self.mode}"


class SrtConnection:
    def __init__(self, srt: lib.Srt, ep: Endpoint,
                 on_data: Callable[[bytes, float], None] | None = None) -> None:
        self.srt = srt
        self.ep = ep
        self.on_data = on_data
        self.state: State = "connecting"
        self.reconnects = 0
        self.connections = 0
        self.encrypted: bool | None = None
        self.send_failures = 0
        self.error: str | None = None
        self._sock = lib.INVALID
        self._listener = lib.INVALID
        self._lock = threading.Lock()  # the socket id vs. close and the stats reader
        self._leftover: list[Snapshot] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if ep.mode == "listener":  # bind now: a port in use is an error the caller sees
            self._listener = self._new_socket(listener=True)
            try:
                srt.set_int(self._listener, lib.RCVSYN, 0)  # accept polls, close stays prompt
                srt.listen(self._listener, ep.host or "", ep.port)
            except SrtError as exc:
                srt.close(self._listener)
                raise SrtError(f"{ep}: {exc}; is another process using UDP port "
                               f"{ep.port}?") from None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"srt {self.ep}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop without blocking the event loop for long: a caller's connect attempt may
        still run (up to CONNECT_TIMEOUT_MS); its thread then closes that socket itself."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=RECV_TIMEOUT_MS / 1000 * 3)
        with self._lock:
            for s in (self._sock, self._listener):
                if s != lib.INVALID:
                    self.srt.close(s)
            self._sock = self._listener = lib.INVALID

    # --- the stats reader (10 Hz tick) -----------------------------------------------------

    def snapshots(self) -> list[Snapshot]:
        with self._lock:
            out, self._leftover = self._leftover, []
            if self._sock != lib.INVALID:
                perf = self.srt.bistats(self._sock, clear=True)
                if perf is not None:
                    out.append(Snapshot.from_perf(perf, self.ep.sender))
        return out

    def send(self, data: bytes) -> bool:
        s = self._sock
        if s == lib.INVALID or self.state != "connected":
            return False
        if self.srt.send(s, data) < 0:
            self.send_failures += 1
            return False
        return True

    # --- the thread -------------------------------------------------------------------------

    def _new_socket(self, listener: bool = False) -> int:
        srt, ep = self.srt, self.ep
        s = srt.create()
        try:
            srt.set_int(s, lib.TRANSTYPE, 0)  # SRTT_LIVE
            srt.set_int(s, lib.LATENCY, ep.latency_ms)
            srt.set_int(s, lib.PEERIDLETIMEO, PEER_IDLE_MS)
            if ep.passphrase:
                srt.set_bytes(s, lib.PASSPHRASE, ep.passphrase.encode())
            if not listener:
                srt.set_int(s, lib.CONNTIMEO, CONNECT_TIMEOUT_MS)
        except SrtError:
            srt.close(s)
            raise
        return s

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                s = self._connect()
            except SrtError as exc:
                self._fail(str(exc))
                continue
            if s == lib.INVALID:
                continue
            try:
                self._serve(s)
            except Exception as exc:  # the thread must live on: a broken leg retries
                if not isinstance(exc, SrtError):
                    log.exception("%s: receiving failed", self.ep)
                self.srt.close(s)  # (closed already when it failed while serving: harmless)
                self._sock = lib.INVALID
                self._fail(str(exc))

    def _fail(self, why: str) -> None:
        if why != self.error:
            log.debug("%s: %s", self.ep, why)  # shown as the leg's error and its alarm
        self.error = why
        if self.connections:
            self.state = "disconnected"
        self._stop.wait(RETRY_S)

    def _connect(self) -> int:
        srt = self.srt
        if self.ep.mode == "listener":
            while not self._stop.is_set():
                s = srt.accept(self._listener)
                if s != lib.INVALID:
                    return s
                self._stop.wait(0.05)
            return lib.INVALID
        s = self._new_socket()
        try:
            assert self.ep.host is not None
            srt.connect(s, lib.Peer(self.ep.host, self.ep.port))
        except SrtError:
            srt.close(s)
            raise
        return s

    def _serve(self, s: int) -> None:
        srt = self.srt
        srt.set_int(s, lib.RCVSYN, 1)  # an accepted socket inherits the listener's 0
        srt.set_int(s, lib.RCVTIMEO, RECV_TIMEOUT_MS)
        srt.set_int(s, lib.SNDSYN, 0)  # a slow destination must not stall the source leg
        km = srt.get_int(s, lib.KMSTATE)
        with self._lock:
            self._sock = s
        self.encrypted = km == lib.KM_SECURED if km is not None else None
        if self.connections:
            self.reconnects += 1
        self.connections += 1
        self.state = "connected"
        self.error = None
        buf = ctypes.create_string_buffer(lib.LIVE_PAYLOAD)
        try:
            while not self._stop.is_set():
                if self.on_data is not None:
                    n = srt.recv(s, buf)
                    if n > 0:
                        self.on_data(buf.raw[:n], time.time())
                        continue
                else:
                    self._stop.wait(RECV_TIMEOUT_MS / 1000)
                if srt.state(s) != lib.CONNECTED:
                    break
        finally:
            with self._lock:
                perf = srt.bistats(s, clear=True)
                if perf is not None:
                    self._leftover.append(Snapshot.from_perf(perf, self.ep.sender))
                srt.close(s)
                self._sock = lib.INVALID
        if not self._stop.is_set():
            self._fail("connection lost")
