"""Live path latency: sample created -> client received, 500 series at 10 Hz, 10 clients."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.report import Row, percentile, size
from tests.support import agent_process, free_port, stop_process, wait_port

SERIES, RATE_HZ, CLIENTS, SECONDS, WARMUP = size((500, 10, 10, 15.0, 2.0), (20, 10, 2, 2.0, 0.5))


def _clients(url: str, token: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.ws_clients", url, token, str(CLIENTS), str(SECONDS),
         str(WARMUP)], capture_output=True, text=True, timeout=SECONDS + 60, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def measure_agent() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, agent_process(
        Path(tmp), f"[loadgen]\nseries = {SERIES}\nrate_hz = {RATE_HZ}\n"
    ) as agent:
        url = agent.url.replace("http://", "ws://") + "/api/v1/live"
        return _clients(url, agent.token("viewer"))


def measure_baseline() -> dict[str, object]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bare_ws_server", str(port),
                             str(SERIES)])
    try:
        wait_port("127.0.0.1", port)
        return _clients(f"ws://127.0.0.1:{port}/", "")
    finally:
        stop_process(proc)


def run() -> list[Row]:
    base = measure_baseline()
    agent = measure_agent()
    b_ages: list[float] = base["ages_ms"]  # type: ignore[assignment]
    a_ages: list[float] = agent["ages_ms"]  # type: ignore[assignment]
    expected = SERIES * RATE_HZ * SECONDS * CLIENTS
    name = f"live path ({SERIES} series @{RATE_HZ} Hz, {CLIENTS} WS clients)"
    p99 = percentile(a_ages, 99)
    return [
        Row(name, "sample age at receipt p50", percentile(a_ages, 50), "ms", "",
            None, f"bare websockets broadcast: {percentile(b_ages, 50):.1f} ms"),
        Row(name, "sample age at receipt p99", p99, "ms", "<= 150 ms", p99 <= 150,
            f"bare websockets broadcast: {percentile(b_ages, 99):.1f} ms"),
        Row(name, "samples received / published", 100.0 * len(a_ages) / expected, "%", "",
            None, f"dropped (overflow): {agent['dropped']}"),
        Row(name, "batches per client per second",
            float(agent["batches"]) / CLIENTS / SECONDS, "/s", "<= 10", None,  # type: ignore[arg-type]
            f"bare: {float(base['batches']) / CLIENTS / SECONDS:.1f} /s"),  # type: ignore[arg-type]
    ]
