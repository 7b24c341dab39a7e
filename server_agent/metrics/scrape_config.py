"""The scrape config of this flypack's one collector (design §8, collection topology).

At start-up the agent writes, under ``<state_dir>/collector/``:

    scrape.yml          Prometheus-format ``scrape_configs`` (VictoriaMetrics reads the same file
                        with ``-promscrape.config``; Prometheus with ``scrape_config_files`` or by
                        copying the job): job ``flypack-agent``, this agent's address, port and
                        scheme, ``honor_labels`` (the agent sets ``flypack`` itself) and a static
                        ``flypack`` label for anything that lacks it
    scrape-token        the /metrics bearer token, mode 0600, named by ``credentials_file``

Both are rewritten at every start (atomically), so they follow ``[agent]`` and ``[history]``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

from server_agent.auth.credentials import CredentialStore
from server_agent.config import AgentConfig

JOB_NAME = "flypack-agent"
COLLECTOR_DIR = "collector"
SCRAPE_FILE = "scrape.yml"
TOKEN_FILE = "scrape-token"
MAX_SCRAPE_TIMEOUT_S = 10.0


def duration(seconds: float) -> str:
    """A Prometheus duration: whole seconds as ``5s``, anything finer in milliseconds."""
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def scrape_target(listen: str, port: int) -> str:
    """The address a collector on this server uses: wildcard listens are reached on loopback."""
    ip = ipaddress.ip_address(listen)
    if ip.is_unspecified:
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"{host}:{port}"


def _q(value: str | Path) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(value))


def render_scrape_config(config: AgentConfig, token_file: Path) -> str:
    a = config.agent
    interval = config.history.scrape_interval_s
    scheme = "https" if a.tls else "http"
    lines = [
        "# Written by flypack-agent at every start; edits are overwritten (docs/metrics.md).",
        "global:",
        f"  scrape_interval: {duration(interval)}",
        "scrape_configs:",
        f"  - job_name: {_q(JOB_NAME)}",
        f"    scrape_interval: {duration(interval)}",
        f"    scrape_timeout: {duration(min(interval, MAX_SCRAPE_TIMEOUT_S))}",
        "    metrics_path: /metrics",
        f"    scheme: {scheme}",
        "    honor_labels: true",
        "    authorization:",
        "      type: Bearer",
        f"      credentials_file: {_q(token_file)}",
    ]
    if a.tls and a.tls_cert is not None:
        # the agent's certificate is self-signed or from the flypack's own CA
        lines += ["    tls_config:", f"      ca_file: {_q(a.tls_cert.resolve())}"]
    lines += [
        "    static_configs:",
        f"      - targets: [{_q(scrape_target(a.listen, a.port))}]",
        "        labels:",
        f"          flypack: {_q(a.flypack)}",
    ]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)  # O_CREAT's mode is masked by the umask
    os.replace(tmp, path)


def write_scrape_config(config: AgentConfig, credentials: CredentialStore) -> Path:
    """Write the token file and ``scrape.yml`` under ``<state_dir>/collector``; return its path."""
    directory = config.agent.state_dir.resolve() / COLLECTOR_DIR
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o750)
    token = credentials.get_or_create(config.metrics.scrape_token_ref, 32)
    token_file = directory / TOKEN_FILE
    _atomic_write(token_file, token, 0o600)
    path = directory / SCRAPE_FILE
    _atomic_write(path, render_scrape_config(config, token_file), 0o644)
    return path
