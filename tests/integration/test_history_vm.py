"""History through the real VictoriaMetrics (Debian 1.79.5), scraping the real agent.

agent (subprocess) writes state/collector/scrape.yml -> victoria-metrics scrapes /metrics with
the token file -> GET /api/v1/history answers from VictoriaMetrics; with VictoriaMetrics stopped
the same request answers from the agent's buffers and says so; a wrong token shows as a failed
scrape on VictoriaMetrics' /api/v1/targets.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server_agent.metrics.victoria import VictoriaMetricsProcess
from tests.support import AgentProc, agent_process, free_port, require_binary

pytestmark = pytest.mark.real

SERIES = "flypack_live_samples_published_total"


def history(agent: AgentProc, token: str, series: str, **params: Any) -> dict[str, Any]:
    now = time.time()
    q = {"series": series, "start": now - 120, "end": now + 1, "step": 1, **params}
    r = httpx.get(f"{agent.url}/api/v1/history", params=q,
                  headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wait_up(vm: VictoriaMetricsProcess, job: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    target: dict[str, Any] = {}
    while time.monotonic() < deadline:
        target = vm.wait_for_scrape(job, timeout=timeout)
        if target["health"] == "up" and target.get("lastSamplesScraped", 0) > 0:
            return target
        time.sleep(0.2)
    raise AssertionError(f"{job} not scraped successfully: {target}")


def test_history_from_victoriametrics_then_from_buffers(tmp_path: Path) -> None:
    binary = require_binary("victoria-metrics")
    vm_port = free_port()
    extra = (f'[history]\nvictoriametrics_url = "http://127.0.0.1:{vm_port}"\n'
             "scrape_interval_s = 1\ntimeout_s = 3\n")
    with agent_process(tmp_path, extra) as agent:
        scrape = agent.state_dir / "collector" / "scrape.yml"
        token_file = agent.state_dir.resolve() / "collector" / "scrape-token"
        assert scrape.is_file() and token_file.is_file()
        # the agent-written file passes VictoriaMetrics' own strict check
        check = subprocess.run([binary, f"-promscrape.config={scrape}", "-dryRun",
                                "-loggerLevel=ERROR"], capture_output=True, timeout=20)
        assert check.returncode == 0, check.stderr.decode()
        # /metrics itself: token or nothing
        assert httpx.get(f"{agent.url}/metrics", timeout=5).status_code == 401
        r = httpx.get(f"{agent.url}/metrics", timeout=5,
                      headers={"Authorization": f"Bearer {token_file.read_text()}"})
        assert r.status_code == 200 and f"# TYPE {SERIES} counter" in r.text

        viewer = agent.token("viewer")
        vm = VictoriaMetricsProcess(tmp_path / "vm", scrape, port=vm_port, binary=binary)
        try:
            vm.start()
            wait_up(vm, "flypack-agent")
            body: dict[str, Any] = {}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                vm.force_flush()
                body = history(agent, viewer, SERIES)
                if body["source"] == "victoriametrics" and body["series"]:
                    break
                time.sleep(0.5)
            assert body["source"] == "victoriametrics", body
            assert body["query"] == f'{SERIES}{{flypack="flypack-test"}}'
            [s] = body["series"]
            assert s["labels"] == {"flypack": "flypack-test"}
            assert s["points"] and all(v is None or v >= 0 for _, v in s["points"])
            deadline = time.monotonic() + 15
            while True:  # each series becomes searchable on its own schedule
                vm.force_flush()
                info = history(agent, viewer, "flypack_agent_info",
                               match=["flypack=flypack-test"])
                if info["series"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert info["source"] == "victoriametrics"
            assert info["series"][0]["labels"]["version"]
        finally:
            vm.stop()

        body = history(agent, viewer, SERIES)
        assert body["source"] == "buffer"
        assert body["note"] == (
            f"long history unavailable: VictoriaMetrics unreachable at http://127.0.0.1:{vm_port}"
            " (connection refused); showing the last 2 min at full rate and 1 h at 1 s")
        assert body["query"] is None
        assert body["series"] and body["series"][0]["points"]

        # the same scrape config with a wrong token: VictoriaMetrics reports the 401
        bad_token = tmp_path / "bad-token"
        bad_token.write_text("not-the-token")
        bad_token.chmod(0o600)
        bad = tmp_path / "bad-scrape.yml"
        bad.write_text(scrape.read_text().replace(str(token_file), str(bad_token)))
        assert str(bad_token) in bad.read_text()
        vm2 = VictoriaMetricsProcess(tmp_path / "vm2", bad, binary=binary)
        try:
            vm2.start()
            target = vm2.wait_for_scrape("flypack-agent")
            assert target["health"] == "down", target
            assert "401" in target["lastError"], target
        finally:
            vm2.stop()
