"""The simulated segment against real clients: snmpget/snmpwalk, UDP echo, TCP, HTTP, TS."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_agent.contract import SimFault, SimTsErrors
from server_agent.sim.ts import TS, cc_of, has_payload, pcr_of, pid_of
from tests.sim_support import SegmentThread, running_segment, sim_clip_dir, sim_section
from tests.support import require_binary

__all__ = ["sim_clip_dir"]  # the session fixture


@pytest.fixture(scope="module")
def seg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SegmentThread]:
    require_binary("snmpget")
    cache = tmp_path_factory.mktemp("simcache")
    with running_segment(sim_section(snmp=True, streams=0), cache) as st:
        yield st


def snmpget(addr: str, port: int, *oids: str, timeout: float = 1.0) -> str:
    r = subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", str(timeout), "-r", "0",
                        "-On", f"{addr}:{port}", *oids],
                       capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def wait_snmp(addr: str, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "STRING" in snmpget(addr, port, "1.3.6.1.2.1.1.5.0", timeout=0.5):
            return
        time.sleep(0.3)
    raise TimeoutError("snmpsim did not answer within 60 s")


def echo(addr: str, port: int, n: int = 1, timeout: float = 0.5) -> list[float]:
    """RTTs of the answered echo requests (n requests, one at a time)."""
    rtts = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        for i in range(n):
            t0 = time.monotonic()
            s.sendto(f"ping {i}".encode(), (addr, port))
            try:
                while True:
                    data, _ = s.recvfrom(2048)
                    if data == f"ping {i}".encode():
                        rtts.append(time.monotonic() - t0)
                        break
            except TimeoutError:
                pass
    return rtts


def test_snmp_per_device_data_and_growing_counters(seg: SegmentThread) -> None:
    ports = seg.seg.ports
    assert ports.snmp is not None
    enc, rtr = seg.seg.by_name["enc-01"], seg.seg.by_name["rtr-02"]
    wait_snmp(enc.address, ports.snmp)
    out = snmpget(enc.address, ports.snmp, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.1.0",
                  "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.6.0")
    assert '"enc-01"' in out and "Makito" in out and enc.kind.sys_object_id in out
    assert "Flypack-01" in out
    assert '"rtr-02"' in snmpget(rtr.address, ports.snmp, "1.3.6.1.2.1.1.5.0")
    oid = "1.3.6.1.2.1.31.1.1.1.10.1"  # ifHCOutOctets.1
    first = int(snmpget(enc.address, ports.snmp, oid).split("Counter64: ")[1].split()[0])
    time.sleep(1.2)
    second = int(snmpget(enc.address, ports.snmp, oid).split("Counter64: ")[1].split()[0])
    assert second > first
    walk = subprocess.run(["snmpwalk", "-v2c", "-c", "public", "-On",
                           f"{rtr.address}:{ports.snmp}", "1.3.6.1.2.1.2.2.1.2"],
                          capture_output=True, text=True, timeout=30).stdout
    assert "GigabitEthernet0/0/0" in walk and "GigabitEthernet0/0/1" in walk


def test_snmp_down_and_loss(seg: SegmentThread) -> None:
    ports = seg.seg.ports
    assert ports.snmp is not None
    sw = seg.seg.by_name["sw-01"]
    wait_snmp(sw.address, ports.snmp)
    seg.seg.faults.set("sw-01", SimFault(down=True))
    try:
        time.sleep(0.5)  # snmpsim re-reads its fault file at most every 0.2 s
        assert "Timeout" in snmpget(sw.address, ports.snmp, "1.3.6.1.2.1.1.5.0", timeout=0.5)
        assert '"sw-02"' in snmpget(seg.seg.by_name["sw-02"].address, ports.snmp,
                                    "1.3.6.1.2.1.1.5.0")
    finally:
        seg.seg.faults.clear("sw-01")
    time.sleep(0.5)
    assert '"sw-01"' in snmpget(sw.address, ports.snmp, "1.3.6.1.2.1.1.5.0")


def test_udp_echo_honours_loss_latency_and_down(seg: SegmentThread) -> None:
    ep = seg.seg.by_name["ep-003"]
    port = seg.seg.ports.echo
    assert len(echo(ep.address, port, 5)) == 5
    faults = seg.seg.faults
    try:
        faults.set("ep-003", SimFault(latency_ms=150))
        rtts = echo(ep.address, port, 3)
        assert len(rtts) == 3 and min(rtts) >= 0.14
        faults.set("ep-003", SimFault(loss_ratio=0.5))
        got = len(echo(ep.address, port, 40, timeout=0.2))
        assert 5 <= got <= 35
        faults.set("ep-003", SimFault(down=True))
        assert echo(ep.address, port, 3, timeout=0.2) == []
        time.sleep(0.3)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ep.address, seg.seg.ports.tcp), timeout=1).close()
    finally:
        faults.clear("ep-003")
    time.sleep(0.3)
    assert len(echo(ep.address, port, 3)) == 3
    with socket.create_connection((ep.address, seg.seg.ports.tcp), timeout=2) as s:
        banner = s.recv(200).decode()
        assert banner.startswith("ep-003 ") and "ready" in banner
        s.sendall(b"hello\n")
        assert s.recv(100) == b"hello\n"


def test_http_status_api(seg: SegmentThread) -> None:
    enc, dec = seg.seg.by_name["enc-02"], seg.seg.by_name["dec-01"]
    port = seg.seg.ports.http
    with urllib.request.urlopen(f"http://{enc.address}:{port}/api/v1/status", timeout=5) as r:
        st = json.load(r)
    assert st["device"] == "enc-02" and st["model"] == enc.kind.model and st["firmware"]
    assert st["uptime_s"] > 0 and st["input"]["state"] == "locked" and "bitrate_bps" in st["output"]
    with urllib.request.urlopen(f"http://{dec.address}:{port}/", timeout=5) as r:
        assert json.load(r)["output"]["type"] == "SDI"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://{enc.address}:{port}/nope", timeout=5)
    assert e.value.code == 404
    with pytest.raises(OSError):  # routers have no HTTP API
        urllib.request.urlopen(f"http://{seg.seg.by_name['rtr-01'].address}:{port}/", timeout=2)


def test_encoder_output_restart_api(seg: SegmentThread) -> None:
    enc, dec = seg.seg.by_name["enc-03"], seg.seg.by_name["dec-02"]
    port = seg.seg.ports.http

    def post(addr: str) -> dict[str, object]:
        req = urllib.request.Request(f"http://{addr}:{port}/api/v1/output/restart",
                                     method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)  # type: ignore[no-any-return]

    t0 = time.time()
    first = post(enc.address)
    assert first["restarted"] is True
    with urllib.request.urlopen(f"http://{enc.address}:{port}/api/v1/status", timeout=5) as r:
        out = json.load(r)["output"]
    assert out["restarts"] == 1 and out["started_at"] >= t0
    assert post(enc.address)["output"]["restarts"] == 2  # type: ignore[index]
    with pytest.raises(urllib.error.HTTPError) as e:  # decoders have no stream to restart
        post(dec.address)
    assert e.value.code == 404


def receive_ts(addr: str, port: int, seconds: float) -> bytes:
    out = bytearray()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((addr, port))
        s.settimeout(1.0)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = s.recv(2048)
            except TimeoutError:
                continue
            out += data
    return bytes(out)


def continuity_errors(ts: bytes) -> int:
    last: dict[int, int] = {}
    errors = 0
    for off in range(0, len(ts), TS):
        pid = pid_of(ts, off)
        if pid == 0x1FFF:
            continue
        cc = cc_of(ts, off)
        if pid in last:
            errors += cc != ((last[pid] + 1) & 15 if has_payload(ts, off) else last[pid])
        last[pid] = cc
    return errors


@pytest.mark.slow
def test_stream_is_seamless_across_the_loop_and_ts_errors_show(sim_clip_dir: Path) -> None:
    cfg = sim_section(streams=1, stream_port=25001, stream_mbps=3.0)
    with running_segment(cfg, sim_clip_dir) as st:
        spec = st.seg.by_name["enc-01"].stream
        assert spec is not None and st.seg.senders
        ts = receive_ts(spec.address, spec.port, 12.0)  # the clip is 10 s: > 1 loop
        assert len(ts) % TS == 0 and len(ts) > 0.9 * 12 * 3e6 / 8
        assert st.seg.senders["enc-01"].replayer.loop >= 1
        assert continuity_errors(ts) == 0
        pcrs = [(o, pcr_of(ts, o)) for o in range(0, len(ts), TS) if pcr_of(ts, o) is not None]
        per_byte = 27e6 * 8 / 3e6
        jumps = [(o1, o2) for (o1, p1), (o2, p2) in itertools.pairwise(pcrs)
                 if abs((p2 or 0) - (p1 or 0) - (o2 - o1) * per_byte) > 27_000]  # > 1 ms
        assert jumps == []
        st.seg.faults.set("enc-01", SimFault(ts_errors=SimTsErrors(drop_per_s=20)))
        bad = receive_ts(spec.address, spec.port, 2.0)
        st.seg.faults.clear()
        assert continuity_errors(bad) >= 10
        assert st.seg.senders["enc-01"].status()["ts_packets_dropped"] >= 10
