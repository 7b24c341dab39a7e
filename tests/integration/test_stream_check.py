"""`flypack-agent stream-check` as a real process on loopback: exit codes (design §8) — 0 when
the check ran, 1 with --fail-on-alarm when it found an alarm, 2 when it could not run
(malformed URL, a source that never sends, a port in use), with a one-line message."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import AGENT_BIN, free_port, require_binary, stop_process


def check(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AGENT_BIN, "stream-check", *args], capture_output=True, text=True,
                          timeout=timeout)


def one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("flypack-agent: ") and r.stderr.strip().count("\n") == 0
    return r.stderr


@pytest.mark.parametrize(("url", "says"), [
    ("udp://@999.1.1.1:5000", "is not an IPv4 address"),
    ("udp://@239.1.1.1", "missing or bad port"),
    ("udp://@:70000", "missing or bad port"),
    ("http://@:5000", "unknown scheme 'http'"),
    ("udp://@:5000?ttl=3", "unknown parameter(s) ttl"),
    ("udp://@127.0.0.1:5000?source=127.0.0.2", "source= needs a multicast group"),
    ("srt://:9000?mode=caller", "mode=caller needs a host"),
    ("srt://127.0.0.1:9000?passphrase=abcdefghijkl", "never goes into a URL"),
    ("srt://127.0.0.1:9000?passphrase_ref=main", "names no secret in the agent's credential"),
])
def test_malformed_url_is_one_line_and_exit_2(url: str, says: str) -> None:
    assert says in one_line(check(url, "--seconds", "1"))


def test_srt_nobody_to_call_is_exit_2() -> None:
    port = free_port(kind=socket.SOCK_DGRAM)
    err = one_line(check(f"srt://127.0.0.1:{port}?mode=caller", "--seconds", "1.5"))
    assert f"no SRT connection on srt://127.0.0.1:{port}?mode=caller in 1.5 s" in err
    assert "is the source listening there" in err


def test_bad_seconds_is_exit_2() -> None:
    assert "--seconds must be between" in one_line(check("udp://@:5000", "--seconds", "0"))


def test_silent_source_is_exit_2() -> None:
    port = free_port(kind=socket.SOCK_DGRAM)
    err = one_line(check(f"udp://@127.0.0.1:{port}", "--seconds", "0.5"))
    assert f"no datagram arrived on udp://@127.0.0.1:{port} in 0.5 s" in err


def test_port_in_use_is_exit_2() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        err = one_line(check(f"udp://@127.0.0.1:{port}", "--seconds", "1"))
    assert f"UDP port {port} is in use" in err


def test_unknown_interface_is_exit_2() -> None:
    err = one_line(check("udp://@239.1.2.3:5000?iface=nosuchif0", "--seconds", "1"))
    assert "interface 'nosuchif0'" in err


def _bound(port: int) -> bool:
    needle = f":{port:04X} "
    return any(needle in line for line in Path("/proc/net/udp").read_text().splitlines()[1:])


def run_with_sender(port: int, drop: list[int], *args: str) -> tuple[int, dict[str, Any]]:
    """stream-check on loopback while the bounded lab sender sends 300 RTP datagrams."""
    require_binary("ffmpeg")  # the sender's clip
    proc = subprocess.Popen([AGENT_BIN, "stream-check", f"rtp://@127.0.0.1:{port}",
                             "--seconds", "3", "--json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not _bound(port):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        spec = {"legs": [{"dest": "127.0.0.1", "port": port, "local": "127.0.0.1",
                          "drop": drop}], "count": 300, "pps": 250, "seq0": 100}
        subprocess.run([sys.executable, "-m", "tests.lab.rtp_sender", json.dumps(spec)],
                       check=True, capture_output=True, timeout=60)
        out, _ = proc.communicate(timeout=30)
    finally:
        stop_process(proc)  # type: ignore[arg-type]
    return proc.returncode, json.loads(out or "{}")


def test_fail_on_alarm_exits_1_only_when_something_was_found() -> None:
    from tests.lab.rtp_sender import cc_errors_of_drops, datagrams

    rc, doc = run_with_sender(free_port(kind=socket.SOCK_DGRAM), [201], "--fail-on-alarm")
    assert rc == 1
    assert doc["rtp"] == {"lost": 1, "reordered": 0, "duplicates": 0}
    assert "rtp lost: 1" in doc["alarms"]
    cc = cc_errors_of_drops([datagrams(300, 100, rtp=False)[201]])  # 7 TS packets with it
    assert doc["tr101290"]["continuity_count_error"] == cc > 0

    rc, doc = run_with_sender(free_port(kind=socket.SOCK_DGRAM), [], "--fail-on-alarm")
    assert rc == 0, doc["alarms"]
    assert doc["alarms"] == [] and doc["legs"][0]["datagrams"] == 300
    assert doc["rtp"] == {"lost": 0, "reordered": 0, "duplicates": 0}
    assert set(doc["tr101290"].values()) == {0}
    assert doc["mdi"]["df_ms"] is not None and doc["mdi"]["mlr"] == 0


def test_alarms_without_fail_on_alarm_still_exit_0() -> None:
    rc, doc = run_with_sender(free_port(kind=socket.SOCK_DGRAM), [50, 51])
    assert rc == 0
    assert doc["rtp"]["lost"] == 2 and doc["alarms"]
