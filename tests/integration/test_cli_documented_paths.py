"""Documented CLI paths that nothing else ran: `cert create` refuses to overwrite without
--force (and replaces with it), `serve --port` overrides the config's port."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.support import AGENT_BIN, free_port, stop_process, wait_http, write_config


def _cert(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENT_BIN, "cert", "create", "--cert", str(tmp / "a.crt"), "--key", str(tmp / "a.key"),
         "--host", "flypack-01.local", *extra], capture_output=True, text=True, timeout=60)


def test_cert_create_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    first = _cert(tmp_path)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "a.crt").read_bytes(), (tmp_path / "a.key").read_bytes()
    again = _cert(tmp_path)
    assert again.returncode == 2
    assert "exists; pass --force" in again.stderr and "Traceback" not in again.stderr
    assert ((tmp_path / "a.crt").read_bytes(), (tmp_path / "a.key").read_bytes()) == before
    forced = _cert(tmp_path, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "a.crt").read_bytes() != before[0]
    # the fingerprint printed is the new certificate's
    assert forced.stdout.strip() != first.stdout.strip()


def test_serve_port_overrides_the_configured_port(tmp_path: Path) -> None:
    configured, override = free_port(), free_port()
    cfg = write_config(tmp_path, configured)
    log = (tmp_path / "agent.log").open("wb")
    proc = subprocess.Popen([AGENT_BIN, "serve", "--config", str(cfg), "--port", str(override)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{override}/api/v1/health", proc=proc)  # type: ignore[arg-type]
        try:
            httpx.get(f"http://127.0.0.1:{configured}/api/v1/health", timeout=1)
            listening_on_configured = True
        except httpx.ConnectError:
            listening_on_configured = False
        assert not listening_on_configured
    finally:
        stop_process(proc)  # type: ignore[arg-type]
        log.close()
