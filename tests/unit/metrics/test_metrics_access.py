"""/metrics is not public: a scrape bearer token, or loopback clients only (design §8)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.live.bus import sample
from server_agent.metrics.access import ScrapeDenied, ScrapeGuard, is_loopback
from server_agent.runtime import Services, build_services
from tests.unit.conftest import make_config

TOKEN_NAME = "metrics-scrape-token"


def test_scrape_token_is_created_once_in_the_credential_store(services: Services) -> None:
    token = services.credentials.get(TOKEN_NAME)
    assert token and len(token) >= 40
    again = build_services(services.config)
    assert again.credentials.get(TOKEN_NAME) == token
    again.db.close()


def test_token_checks(client: TestClient, services: Services) -> None:
    services.bus.publish([sample("flypack_probe_up", {"device": "enc-01", "probe": "icmp"}, 1)])
    token = services.credentials.get(TOKEN_NAME)
    r = client.get("/metrics")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert "Bearer" in r.json()["detail"] and "scrape.yml" in r.json()["hint"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.get("/metrics", headers={"Authorization": "Bearer wrong-token"})
    assert r.status_code == 401 and "wrong" in r.json()["detail"]
    r = client.get("/metrics", headers={"Authorization": f"Basic {token}"})
    assert r.status_code == 401
    r = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'flypack_probe_up{device="enc-01",flypack="flypack-test",probe="icmp"} 1' in r.text
    assert "# TYPE flypack_agent_info gauge" in r.text


def test_a_user_access_token_is_not_a_scrape_token(client: TestClient,
                                                   tokens: dict[str, str]) -> None:
    r = client.get("/metrics", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert r.status_code == 401


def test_metrics_is_not_under_the_api_prefix_nor_in_the_openapi(client: TestClient) -> None:
    assert client.get("/api/v1/metrics").status_code == 404
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.fixture
def loopback_services(tmp_path: Path) -> Iterator[Services]:
    svc = build_services(make_config(tmp_path, metrics={"loopback_only": True}))
    yield svc
    svc.db.close()


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1", 200), ("127.3.2.1", 200), ("::1", 200), ("::ffff:127.0.0.1", 200),
    ("198.51.100.7", 403), ("2001:db8::1", 403), ("testclient", 403),
])
def test_loopback_only(loopback_services: Services, host: str, status: int) -> None:
    app = create_app(loopback_services, run_background=False)
    with TestClient(app, client=(host, 40000)) as c:
        r = c.get("/metrics")
        assert r.status_code == status, r.text
        if status == 403:
            assert r.json()["error"] == "forbidden"
            assert "loopback" in r.json()["detail"]
            # a valid token does not open it to other addresses
            token = loopback_services.credentials.get(TOKEN_NAME)
            r = c.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 403


def test_guard_unit() -> None:
    g = ScrapeGuard("s3cret")
    g.check("198.51.100.7", "Bearer s3cret")
    g.check(None, "bearer  s3cret ")
    for header in (None, "", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Token s3cret"):
        with pytest.raises(ScrapeDenied) as exc:
            g.check("127.0.0.1", header)
        assert exc.value.status == 401
    with pytest.raises(ValueError):
        ScrapeGuard("")
    assert is_loopback("127.0.0.1") and is_loopback("[::1]")
    assert not is_loopback(None) and not is_loopback("localhost")
