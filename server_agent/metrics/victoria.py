"""A VictoriaMetrics single-node process for tests and ``make demo`` (Debian ``victoria-metrics``).

    vm = VictoriaMetricsProcess(data_dir, scrape_config=state/collector/scrape.yml).start()
    vm.url                 http://127.0.0.1:PORT  (put it in [history].victoriametrics_url)
    vm.force_flush()       make the samples scraped so far queryable at once
    vm.targets()           /api/v1/targets (health and lastError of each scrape target)
    vm.stop()              SIGTERM by PID, SIGKILL after a timeout

Flags as the Debian binary 1.79.5 accepts them (``victoria-metrics -help``):
``-httpListenAddr``, ``-storageDataPath``, ``-promscrape.config``,
``-promscrape.configCheckInterval`` (re-reads the file the agent rewrites at start-up) and
``-search.latencyOffset`` (default 30 s hides the newest samples from queries: 0 s here).
In production VictoriaMetrics runs as a compose service; this class is not used there.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from server_agent.children import stop_child

BINARY = "victoria-metrics"


class VictoriaMetricsError(RuntimeError):
    """The binary is missing, did not start, or did not answer; the message says which."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class VictoriaMetricsProcess:
    def __init__(
        self,
        data_dir: Path,
        scrape_config: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        binary: str | None = None,
        retention: str = "31d",
        config_check_interval: str = "1s",
        extra_args: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.scrape_config = scrape_config
        self.host = host
        self.port = port or _free_port(host)
        self.binary = binary or shutil.which(BINARY) or f"/usr/bin/{BINARY}"
        self.retention = retention
        self.config_check_interval = config_check_interval
        self.extra_args = list(extra_args or [])
        self.log_path = data_dir.with_name(data_dir.name + ".log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            self.binary,
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.data_dir}",
            f"-retentionPeriod={self.retention}",
            "-search.latencyOffset=0s",
            "-search.disableCache",
            "-loggerLevel=WARN",
        ]
        if self.scrape_config is not None:
            cmd += [
                f"-promscrape.config={self.scrape_config}",
                f"-promscrape.configCheckInterval={self.config_check_interval}",
            ]
        return cmd + self.extra_args

    def start(self, timeout: float = 20.0) -> VictoriaMetricsProcess:
        if self.proc is not None:
            raise VictoriaMetricsError("already started")
        if not Path(self.binary).exists():
            raise VictoriaMetricsError(
                f"{self.binary} not found; install the Debian package victoria-metrics")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise VictoriaMetricsError(
                    f"victoria-metrics exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                r = httpx.get(f"{self.url}/health", timeout=1.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise VictoriaMetricsError(f"{self.url}/health did not answer in {timeout} s ({last}): "
                                   f"{self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def force_flush(self) -> None:
        """Make every sample received so far visible to queries (``/internal/force_flush``)."""
        r = httpx.get(f"{self.url}/internal/force_flush", timeout=10.0)
        if r.status_code != 200:
            raise VictoriaMetricsError(f"force_flush answered HTTP {r.status_code}: {r.text}")

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets, as ``/api/v1/targets`` lists them."""
        r = httpx.get(f"{self.url}/api/v1/targets", timeout=5.0)
        r.raise_for_status()
        active: list[dict[str, Any]] = r.json()["data"]["activeTargets"]
        return active

    def wait_for_scrape(self, job: str, timeout: float = 15.0) -> dict[str, Any]:
        """Wait until ``job`` has been scraped once (healthy or not); return its target entry."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t in self.targets():
                # before its first scrape a target shows lastScrape 1970-01-01 and health down
                last = str(t.get("lastScrape", ""))
                if t.get("labels", {}).get("job") == job and last and not last.startswith(
                        ("1970-", "0001-")):
                    return t
            time.sleep(0.2)
        raise VictoriaMetricsError(f"job {job!r} was not scraped within {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        stop_child(proc, timeout)  # by PID: the process we started

    def __enter__(self) -> VictoriaMetricsProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
