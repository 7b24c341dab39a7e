"""The collector's scrape config written at start-up (design §8, collection topology)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from server_agent.auth.credentials import CredentialStore
from server_agent.metrics.scrape_config import duration, scrape_target, write_scrape_config
from server_agent.runtime import Services
from tests.unit.conftest import make_config


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def test_written_at_start_up_with_the_token_file(services: Services) -> None:
    path = services.config.agent.state_dir.resolve() / "collector" / "scrape.yml"
    cfg = load(path)
    [job] = cfg["scrape_configs"]
    assert job["job_name"] == "flypack-agent"
    assert job["scheme"] == "http" and job["metrics_path"] == "/metrics"
    assert job["scrape_interval"] == "5s" and job["scrape_timeout"] == "5s"
    assert job["honor_labels"] is True
    assert job["static_configs"] == [{"targets": ["127.0.0.1:8443"],
                                      "labels": {"flypack": "flypack-test"}}]
    auth = job["authorization"]
    assert auth["type"] == "Bearer"
    token_file = Path(auth["credentials_file"])
    assert token_file.is_absolute()
    assert token_file.read_text() == services.credentials.get("metrics-scrape-token")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_follows_agent_and_history_settings(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("x")
    cfg = make_config(tmp_path, history={"scrape_interval_s": 1.5},
                      metrics={"scrape_token_ref": "other-token"})
    cfg = cfg.model_copy(update={"agent": cfg.agent.model_copy(update={
        "listen": "0.0.0.0", "port": 9443, "tls_cert": tmp_path / "c.pem",
        "tls_key": tmp_path / "k.pem", "flypack": 'fp "quoted"'})})
    creds = CredentialStore(tmp_path / "creds.json")
    path = write_scrape_config(cfg, creds)
    [job] = load(path)["scrape_configs"]
    assert job["scheme"] == "https"
    assert job["tls_config"] == {"ca_file": str((tmp_path / "c.pem").resolve())}
    assert job["scrape_interval"] == "1500ms" and job["scrape_timeout"] == "1500ms"
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:9443"]
    assert job["static_configs"][0]["labels"] == {"flypack": 'fp "quoted"'}
    assert Path(job["authorization"]["credentials_file"]).read_text() == creds.get("other-token")
    # rewritten, not appended, at the next start
    write_scrape_config(cfg, creds)
    assert len(load(path)["scrape_configs"]) == 1


def test_helpers() -> None:
    assert duration(5.0) == "5s" and duration(0.25) == "250ms" and duration(300) == "300s"
    assert scrape_target("0.0.0.0", 1) == "127.0.0.1:1"
    assert scrape_target("::", 2) == "[::1]:2"
    assert scrape_target("127.0.0.5", 3) == "127.0.0.5:3"
    assert scrape_target("fd00::5", 4) == "[fd00::5]:4"
