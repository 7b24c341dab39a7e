"""The agent as users run it: `flypack-agent` subprocesses, real sockets, real TLS."""

from __future__ import annotations

import itertools
import json
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support import (
    AGENT_BIN,
    add_users,
    agent_process,
    free_port,
    require_binary,
    stop_process,
    wait_http,
    write_config,
)


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([AGENT_BIN, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def test_bad_config_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "agent.toml"
    cfg.write_text("[agent]\nport = 'eighty'\n[[devices]]\nname = 'enc 01'\naddress = '1.2.3'\n")
    r = run("serve", "--config", str(cfg))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert f"{cfg}: agent.port" in r.stderr
    assert "devices[0].name" in r.stderr and "devices[0].address" in r.stderr
    r = run("serve", "--config", str(tmp_path / "missing.toml"))
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_user_add_rejects_short_password_and_duplicates(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, free_port())
    r = run("user", "add", "alice", "--role", "operator", "--config", str(cfg), stdin="short\n")
    assert r.returncode == 2 and "too short" in r.stderr
    assert run("user", "add", "alice", "--role", "operator", "--config", str(cfg),
               stdin="long-enough-1\n").returncode == 0
    r = run("user", "add", "alice", "--role", "admin", "--config", str(cfg),
            stdin="long-enough-1\n")
    assert r.returncode == 2 and "exists already" in r.stderr
    r = run("user", "list", "--config", str(cfg))
    assert r.stdout.strip() == "alice\toperator"


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        cfg = write_config(tmp_path, s.getsockname()[1])
        r = run("serve", "--config", str(cfg))
    assert r.returncode == 2 and "in use" in r.stderr and "Traceback" not in r.stderr


def test_tls_is_1_3_only_and_fingerprint_matches_openssl(tmp_path: Path) -> None:
    openssl = require_binary("openssl")
    cert, key = tmp_path / "agent.crt", tmp_path / "agent.key"
    r = run("cert", "create", "--cert", str(cert), "--key", str(key), "--host", "127.0.0.1")
    assert r.returncode == 0
    fp = r.stdout.split("SHA-256 fingerprint: ")[1].strip()
    o = subprocess.run([openssl, "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                       capture_output=True, text=True, check=True)
    assert o.stdout.strip().split("=", 1)[1] == fp
    assert (key.stat().st_mode & 0o777) == 0o600
    port = free_port()
    cfg = write_config(tmp_path, port, "")
    cfg.write_text(cfg.read_text().replace(
        "[agent]\n", f'[agent]\ntls_cert = "{cert}"\ntls_key = "{key}"\n'))
    add_users(cfg)
    proc = subprocess.Popen([AGENT_BIN, "serve", "--config", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        wait_http(f"https://127.0.0.1:{port}/api/v1/health", proc=proc, verify=trust)
        r13 = httpx.get(f"https://127.0.0.1:{port}/api/v1/health", verify=trust)
        assert r13.json()["tls"] is True
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(ssl.SSLError), socket.create_connection(("127.0.0.1", port)) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
            pass
    finally:
        stop_process(proc)


async def test_live_stream_from_a_real_agent_is_batched_at_most_10_hz(tmp_path: Path) -> None:
    with agent_process(tmp_path, "[loadgen]\nseries = 50\nrate_hz = 20\n") as agent:
        token = agent.token("viewer")
        url = agent.url.replace("http", "ws") + "/api/v1/live"
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.send(json.dumps({"type": "subscribe", "series": ["flypack_loadgen_*"],
                                      "match": {"flypack": "flypack-test"}}))
            batches: list[float] = []
            indices: set[str] = set()
            ages: list[float] = []
            t_end = time.monotonic() + 3.0
            while time.monotonic() < t_end:
                msg = json.loads(await ws.recv())
                if msg["type"] != "samples":
                    continue
                batches.append(time.monotonic())
                now = time.time()
                for s in msg["samples"]:
                    indices.add(s["labels"]["series_index"])
                    ages.append(now - s["t"])
        gaps = [b - a for a, b in itertools.pairwise(batches[1:])]
        assert indices == {str(i) for i in range(50)}
        # the collector publishes at 20 Hz; the client gets at most 10 batches a second
        # (a token bucket with room for a burst of 2)
        assert len(gaps) > 10
        assert len(batches) <= (batches[-1] - batches[0]) / 0.1 + 2
        assert all(a >= 0 for a in ages)


def test_agent_survives_garbage_requests(tmp_path: Path) -> None:
    with agent_process(tmp_path) as agent:
        with socket.create_connection(("127.0.0.1", int(agent.url.rsplit(":", 1)[1]))) as s:
            s.sendall(b"\x16\x03\x01garbage\r\n\r\n")
            s.settimeout(2)
            try:
                s.recv(100)
            except OSError:
                pass
        r = httpx.post(f"{agent.url}/api/v1/auth/login", content=b"\xff" * 5000,
                       headers={"content-type": "application/json"})
        assert r.status_code in (400, 422) and r.json()["detail"]
        assert httpx.get(f"{agent.url}/api/v1/health").status_code == 200
        assert agent.proc.poll() is None
