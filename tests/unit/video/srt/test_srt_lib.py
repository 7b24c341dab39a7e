"""The ctypes binding against the real libsrt 1.5 on this machine, in one process over
loopback: the soname, the CBytePerfMon layout, a listener receiving from a caller with and
without encryption, and the clear=1 accumulation matching libsrt's own running total."""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable

import pytest

from server_agent.video.srt import lib
from server_agent.video.srt.conn import Endpoint, SrtConnection
from server_agent.video.srt.errors import SrtError, SrtSecretMissing
from server_agent.video.srt.leg import resolve_passphrase
from server_agent.video.srt.stats import SrtFigures
from server_agent.video.srt.url import parse_srt
from tests.support import REQUIRE_REAL, free_port


@pytest.fixture(scope="module")
def srt() -> lib.Srt:
    try:
        return lib.load()
    except SrtError as exc:
        if REQUIRE_REAL:
            pytest.fail(f"{exc} and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(str(exc))


def test_soname_found_not_guessed(srt: lib.Srt) -> None:
    assert srt.soname.startswith("libsrt") and ".so.1.5" in srt.soname
    assert srt.version >> 8 == 0x0105  # 1.5.x


def test_perfmon_layout_matches_srt_h_1_5_1() -> None:
    # sizeof / offsetof printed by a C program compiled against libsrt-gnutls-dev 1.5.1's srt.h
    assert ctypes.sizeof(lib.PerfMon) == 496
    assert lib.PerfMon.pktRcvBelated.offset == 224
    assert lib.PerfMon.msRTT.offset == 328
    assert lib.PerfMon.msRcvTsbPdDelay.offset == 392


def _wait(cond: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(cond) and cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("passphrase", [None, "a-test-passphrase"])
def test_listener_receives_from_caller(srt: lib.Srt, passphrase: str | None) -> None:
    port = free_port("127.0.0.1", 2)  # SOCK_DGRAM
    got: list[bytes] = []
    rx = SrtConnection(srt, Endpoint("127.0.0.1", port, "listener", 80, passphrase),
                       lambda data, _t: got.append(data))
    tx = SrtConnection(srt, Endpoint("127.0.0.1", port, "caller", 80, passphrase,
                                     sender=True))
    fig = SrtFigures("monitor")
    try:
        rx.start()
        tx.start()
        _wait(lambda: rx.state == "connected" and tx.state == "connected")
        sent = 0
        for i in range(300):  # bounded: 300 x 1316 bytes in ~0.3 s
            if tx.send(bytes([i % 256]) * 1316):
                sent += 1
            time.sleep(0.001)
        _wait(lambda: len(got) == sent)
        fig.add(rx.snapshots(), rx.state, time.time())
        fig.add(rx.snapshots(), rx.state, time.time())  # cleared: adds nothing more
        assert rx.encrypted is (passphrase is not None)
    finally:
        tx.close()
        rx.close()
    assert sent == 300 and len(got) == 300 and got[5] == bytes([5]) * 1316
    assert fig.received == 300 and fig.lost == 0 and fig.dropped == 0
    assert fig.latency_ms == 80


def test_port_in_use_is_an_error_that_says_so(srt: lib.Srt) -> None:
    port = free_port("127.0.0.1", 2)
    first = SrtConnection(srt, Endpoint("127.0.0.1", port, "listener", 120, None))
    try:
        with pytest.raises(SrtError, match=f"is another process using UDP port {port}"):
            SrtConnection(srt, Endpoint("127.0.0.1", port, "listener", 120, None))
    finally:
        first.close()


def test_passphrase_only_by_reference() -> None:
    u = parse_srt("srt://:9000?passphrase_ref=main")
    def store(d: dict[str, str]) -> Callable[[str], str | None]:
        return d.get

    assert resolve_passphrase(u, store({"main": "0123456789abc"})) == "0123456789abc"
    with pytest.raises(SrtSecretMissing, match="names no secret in the agent's credential"):
        resolve_passphrase(u, store({}))
    with pytest.raises(SrtSecretMissing, match="10 to 79 characters"):
        resolve_passphrase(u, store({"main": "short"}))
    assert resolve_passphrase(parse_srt("srt://:9000"), None) is None
