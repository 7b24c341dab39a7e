"""The compose stack's config files on the Debian binaries, with a real agent (issue 8).

No container engine here, so each service runs as its Debian binary with the command line and
mounts that `docker compose config` renders from compose/docker-compose.yml: bind mounts become
symlinks under a per-service directory (the container's view), named volumes empty
directories, and flags naming container paths point there. Prometheus starts through the
compose entrypoint script with the service's environment; prometheus.yml and blackbox.yml are
the repository's files, unchanged.

Everything runs in a network namespace this test creates, so the stack's fixed loopback ports
(8428, 9090, 9115) and the agent's 8443 are its own and every probe stays on its loopback:

    agent (TLS, 127.0.0.1:8443) ◄─ Prometheus ─► blackbox_exporter ─► 127.0.0.1, 127.0.0.2:9
                                       └─ remote_write ─► VictoriaMetrics (scrapes nothing)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from server_agent.discovery.exports import write_exports
from tests.compose_support import (
    COMPOSE_DIR,
    compose_v2,
    dashboard_queries,
    dashboards,
    stack_metrics,
)
from tests.lab.netns import Lab
from tests.support import AGENT_BIN, require_binary, require_root, write_config

pytestmark = [pytest.mark.slow, pytest.mark.real, pytest.mark.timeout(300)]

NS = "stack"
FLYPACK = "flypack-test"


def render(tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    """`docker compose config` of the repository's file with this env file, as JSON."""
    env_file = tmp / "compose.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    r = subprocess.run([str(compose_v2()), "--project-directory", str(COMPOSE_DIR),
                        "--env-file", str(env_file), "config", "--format", "json"],
                       capture_output=True, text=True, timeout=30,
                       env={"PATH": os.environ["PATH"], "HOME": str(tmp)})
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


class ContainerView:
    """A service's filesystem as far as its mounts go, laid out under ``root``."""

    def __init__(self, root: Path, service: dict[str, Any]) -> None:
        self.root = root
        for v in service.get("volumes", []):
            target = self.path(v["target"])
            target.parent.mkdir(parents=True, exist_ok=True)
            if v["type"] == "bind":
                assert Path(v["source"]).exists(), f"bind source missing: {v['source']}"
                target.symlink_to(v["source"])
            else:
                target.mkdir(parents=True, exist_ok=True)

    def path(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def args(self, args: list[str]) -> list[str]:
        """Flags naming a container path (``--x=/p``) name the same path under ``root``."""
        out = []
        for a in args:
            m = re.match(r"^(-{1,2}[\w.]+=)(/.*)$", a)
            out.append(m.group(1) + str(self.path(m.group(2))) if m else a)
        return out


FETCH = """
import ssl, sys, urllib.parse, urllib.request
url, cafile, query = sys.argv[1:4]
if query:
    url += "?" + urllib.parse.urlencode({"query": query})
ctx = ssl.create_default_context(cafile=cafile) if cafile else None
with urllib.request.urlopen(url, timeout=5, context=ctx) as r:
    sys.stdout.write(r.read().decode())
"""


def get(lab: Lab, url: str, cafile: Path | None = None, query: str = "") -> Any:
    """GET ``url`` from inside the namespace (JSON decoded when it is JSON)."""
    r = lab.run(NS, sys.executable, "-I", "-c", FETCH, url, str(cafile or ""), query,
                check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{url}: {r.stderr.strip().splitlines()[-1:]}")
    return json.loads(r.stdout) if r.stdout.lstrip().startswith(("{", "[")) else r.stdout


def wait(what: str, check: Any, timeout: float, procs: list[subprocess.Popen[bytes]]) -> Any:
    """Poll ``check()`` until it returns a truthy value; bounded in time."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        for p in procs:
            assert p.poll() is None, f"{p.args!r} exited with {p.returncode} while waiting: {what}"
        try:
            result = check()
            if result:
                return result
            last = result
        except (RuntimeError, KeyError, ValueError) as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


def vm_query(lab: Lab, expr: str) -> list[dict[str, Any]]:
    get(lab, "http://127.0.0.1:8428/internal/force_flush")
    body = get(lab, "http://127.0.0.1:8428/api/v1/query", query=expr)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def devices() -> list[dict[str, Any]]:
    """Two inventory rows as discovery stores them: one answering, one with a closed port."""
    def row(dev_id: str, name: str, address: str, facts: dict[str, Any]) -> dict[str, Any]:
        return {"id": dev_id, "name": name, "address": address, "present": True,
                "effective_role": "encoder", "network": "lab", "vendor": "", "model": "",
                "mac": None, "facts": facts, "vars": {}}
    return [row("d1", "enc-up", "127.0.0.1", {"via": ["icmp"], "open_ports": [8443]}),
            row("d2", "enc-closed", "127.0.0.2", {"via": [], "open_ports": [9]})]


def test_stack_configs_collect_agent_and_probes_into_victoriametrics(tmp_path: Path) -> None:
    require_root("a network namespace of its own for the stack's fixed loopback ports; ICMP")
    bins = {name: require_binary(name) for name in (
        "victoria-metrics", "prometheus", "prometheus-blackbox-exporter", "ip")}

    cert, key = tmp_path / "agent.crt", tmp_path / "agent.key"
    subprocess.run([AGENT_BIN, "cert", "create", "--cert", str(cert), "--key", str(key),
                    "--host", "127.0.0.1", "--host", "localhost"], check=True,
                   capture_output=True, timeout=60)
    cfg = write_config(tmp_path, 8443, f'tls_cert = "{cert}"\ntls_key = "{key}"\n')
    state = tmp_path / "state"
    password = tmp_path / "grafana-admin-password"
    password.write_text("not-used-here\n")
    stack = render(tmp_path, {
        "COMPOSE_PROJECT_NAME": "flypack-test", "FLYPACK": FLYPACK,
        "AGENT_ADDRESS": "127.0.0.1", "AGENT_PORT": "8443", "AGENT_SCHEME": "https",
        "AGENT_COLLECTOR_DIR": str(state / "collector"), "AGENT_CA_FILE": str(cert),
        "VM_RETENTION": "30d", "GRAFANA_ADMIN_PASSWORD_FILE": str(password)})
    services = stack["services"]
    assert "-retentionPeriod=30d" in services["victoriametrics"]["command"]  # from the env file

    with Lab("cs") as lab:
        lab.ns(NS)
        agent = lab.spawn(NS, [AGENT_BIN, "serve", "--config", str(cfg)],
                          log=tmp_path / "agent.log")
        procs = [agent]
        try:
            health = wait("the agent answers over TLS", lambda: get(
                lab, "https://127.0.0.1:8443/api/v1/health", cafile=cert), 40, procs)
            assert health
            # the agent's discovery export format, written by its own code
            write_exports(state, devices(), FLYPACK)
            (state / "collector" / "file_sd" / "manual-http.json").write_text(json.dumps([{
                "targets": ["https://127.0.0.1:8443/api/v1/health"],
                "labels": {"flypack": FLYPACK, "device": "enc-up"}}]))

            vm = services["victoriametrics"]
            view = ContainerView(tmp_path / "vm", vm)
            procs.append(lab.spawn(NS, [bins["victoria-metrics"], *view.args(vm["command"])],
                                   log=tmp_path / "vm.log"))
            wait("VictoriaMetrics is healthy", lambda: get(
                lab, "http://127.0.0.1:8428/health"), 30, procs)

            bb = services["blackbox"]
            view = ContainerView(tmp_path / "blackbox", bb)
            procs.append(lab.spawn(NS, [bins["prometheus-blackbox-exporter"],
                                        *view.args(bb["command"])],
                                   log=tmp_path / "blackbox.log"))

            prom = services["prometheus"]
            view = ContainerView(tmp_path / "prometheus", prom)
            entry = prom["entrypoint"]
            assert entry[0] == "/bin/sh"
            procs.append(lab.spawn(
                NS, ["/bin/sh", str(view.path(entry[1])), *view.args(prom["command"])],
                log=tmp_path / "prometheus.log",
                env={**prom["environment"], "PROMETHEUS_BIN": bins["prometheus"],
                     "PROMETHEUS_TARGETS_DIR": str(view.path("/etc/prometheus/targets"))}))
            target_file = view.path("/etc/prometheus/targets/agent.json")
            wait("the entrypoint wrote the agent target", target_file.exists, 10, procs)
            assert json.loads(target_file.read_text()) == [
                {"targets": ["127.0.0.1:8443"],
                 "labels": {"__scheme__": "https", "flypack": FLYPACK}}]

            def scraped() -> dict[str, list[dict[str, Any]]] | None:
                active = get(lab, "http://127.0.0.1:9090/api/v1/targets")["data"]
                by_job: dict[str, list[dict[str, Any]]] = {}
                for t in active["activeTargets"]:
                    by_job.setdefault(t["labels"]["job"], []).append(t)
                done = all(not t["lastScrape"].startswith("0001-")
                           for ts in by_job.values() for t in ts)
                want = {"flypack-agent": 1, "blackbox-icmp": 1, "blackbox-tcp": 2,
                        "blackbox-http": 1, "blackbox-exporter": 1}
                ok = {j: len(v) for j, v in by_job.items()} == want
                return by_job if ok and done else None

            by_job = wait("Prometheus scraped every target once", scraped, 60, procs)
            for job, targets in by_job.items():
                for t in targets:
                    assert t["health"] == "up", (job, t["scrapeUrl"], t["lastError"])
            [agent_target] = by_job["flypack-agent"]
            assert agent_target["scrapeUrl"] == "https://127.0.0.1:8443/metrics"

            def landed(expr: str) -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = wait(
                    f"{expr} in VictoriaMetrics", lambda: vm_query(lab, expr), 40, procs)
                return found

            [info] = landed('flypack_agent_info{job="flypack-agent"}')
            assert info["metric"]["flypack"] == FLYPACK and info["metric"]["version"]
            assert landed('flypack_live_samples_published_total{job="flypack-agent"}')
            [up] = landed('up{job="flypack-agent"}')
            assert up["value"][1] == "1"

            def probes(job: str, *devices: str) -> dict[str, str]:
                """probe_success of the job, once a sample of every device has landed (the
                targets are probed and remote-written independently)."""
                expr = f'probe_success{{job="{job}"}}'

                def every_device() -> dict[str, str] | None:
                    rows = vm_query(lab, expr) or []
                    found = {r["metric"]["device"]: r["value"][1] for r in rows}
                    return found if set(found) >= set(devices) else None
                found: dict[str, str] = wait(f"{expr} for {devices} in VictoriaMetrics",
                                             every_device, 40, procs)
                return found
            assert probes("blackbox-icmp", "enc-up") == {"enc-up": "1"}
            assert probes("blackbox-tcp", "enc-up", "enc-closed") == {"enc-up": "1",
                                                                      "enc-closed": "0"}
            assert probes("blackbox-http", "enc-up") == {"enc-up": "1"}
            [code] = landed('probe_http_status_code{job="blackbox-http"}')
            assert code["value"][1] == "200"
            [icmp] = landed('probe_icmp_duration_seconds{job="blackbox-icmp",phase="rtt"}')
            assert icmp["metric"]["role"] == "encoder" and icmp["metric"]["device_id"] == "d1"
            # every non-agent name the dashboards may use is real and arrives
            for name in sorted(stack_metrics()):
                assert landed(name), name

            # every dashboard query is valid for VictoriaMetrics (Grafana's macros filled in)
            macros = {"$__rate_interval": "20s", "$__range": "5m", "$flypack": ".*"}
            for board in dashboards().values():
                for q in dashboard_queries(board):
                    if q.startswith("label_values("):
                        continue  # Grafana's own function, not PromQL
                    for macro, value in macros.items():
                        q = q.replace(macro, value)
                    assert "$" not in q, q
                    body = get(lab, "http://127.0.0.1:8428/api/v1/query", query=q)
                    assert body["status"] == "success", (q, body)

            # the services' health checks ask URLs these binaries answer
            for name in ("victoriametrics", "blackbox", "prometheus"):
                [url] = [a for a in services[name]["healthcheck"]["test"]
                         if a.startswith("http://")]
                get(lab, url)

            # one collector: VictoriaMetrics scrapes nothing, it only receives remote writes
            vm_targets = get(lab, "http://127.0.0.1:8428/api/v1/targets")["data"]
            assert vm_targets["activeTargets"] == []
        except BaseException:
            for log in ("agent", "vm", "blackbox", "prometheus"):
                p = tmp_path / f"{log}.log"
                if p.exists():
                    print(f"--- {log}.log\n{p.read_text(errors='replace')[-3000:]}")
            raise
