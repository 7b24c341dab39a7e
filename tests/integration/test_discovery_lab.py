"""Discovery between network namespaces this test creates (design §5 lab rules).

    scan ns: br0 198.51.100.1/24 ──┬── enc   .10  snmpd (Haivision encoder)      -> .15 later
                                   ├── rtr   .11  snmpd (Cisco router) ── br1 203.0.113.1/24
                                   │                    ├── far1 .5  TCP 22 only, drops ICMP
                                   │                    └── far2 .7  answers ICMP only
                                   ├── sw    .12  snmpd (Arista switch, one LLDP neighbour)
                                   ├── nmos  .20  mDNS _nmos-node._tcp responder
                                   ├── arp   .30  answers ARP only (drops ICMP) -> goes away
                                   └── web   .40  HTTP "Kiloview D350 Decoder"
    .50 and 203.0.113.9: nothing (silent)

The sweep runs as `flypack-agent discover ... --config` inside the scan namespace; its exports
are then consumed for real: `ansible-inventory --list`, and blackbox_exporter + VictoriaMetrics
(also inside the scan namespace) probing the file_sd targets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server_agent.discovery.inventory import Inventory
from server_agent.store.db import Database
from tests.lab.discovery_devices import start_http, start_nmos_node, start_snmpd, start_tcp_listener
from tests.lab.netns import Lab
from tests.support import AGENT_BIN, free_port, require_binary, require_root

pytestmark = pytest.mark.slow

CONFIG = """
[agent]
flypack = "flypack-lab"
state_dir = "{state}"
[[networks]]
name = "media"
cidr = "198.51.100.0/24"
[[networks]]
name = "remote"
cidr = "203.0.113.0/24"
[discovery]
tcp_ports = [22, 80]
wait_s = 0.5
mdns_wait_s = 2.5
gone_after_sweeps = 1
snmp_timeout_s = 0.5
tcp_timeout_s = 0.5
"""


class LabEnv:
    def __init__(self, lab: Lab, tmp: Path) -> None:
        self.lab, self.tmp = lab, tmp
        self.config = tmp / "agent.toml"
        self.state = tmp / "state"
        self.ifaces: dict[str, str] = {}
        self.config.write_text(CONFIG.format(state=self.state))

    def discover(self) -> dict[str, Any]:
        r = self.lab.run("scan", AGENT_BIN, "discover", "198.51.100.0/24", "203.0.113.0/24",
                         "--json", "--snmp-community", "labcomm", "--rate", "3000",
                         "--config", str(self.config), check=False)
        assert r.returncode == 0, r.stderr
        out: dict[str, Any] = json.loads(r.stdout)
        return out

    def inventory(self) -> list[dict[str, Any]]:
        db = Database(self.state / "agent.db")
        try:
            return Inventory(db).devices()
        finally:
            db.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabEnv]:
    require_root("network namespaces, raw ARP/ICMP sockets")
    require_binary("snmpd")
    require_binary("ip")
    tmp = tmp_path_factory.mktemp("disclab")
    with Lab("d") as lab:
        lab.ns("scan")
        lab.bridge("scan", "br0", "198.51.100.1/24")
        br = ("scan", "br0")
        ifaces = {"enc": lab.host("enc", "198.51.100.10/24", br, gateway="198.51.100.1")}
        lab.host("rtr", "198.51.100.11/24", br)
        lab.bridge("rtr", "br1", "203.0.113.1/24")
        lab.sysctl("rtr", "net.ipv4.ip_forward", "1")
        lab.ip("scan", "route", "add", "203.0.113.0/24", "via", "198.51.100.11")
        lab.host("far1", "203.0.113.5/24", ("rtr", "br1"), gateway="203.0.113.1")
        lab.sysctl("far1", "net.ipv4.icmp_echo_ignore_all", "1")
        lab.host("far2", "203.0.113.7/24", ("rtr", "br1"), gateway="203.0.113.1")
        lab.host("sw", "198.51.100.12/24", br)
        lab.host("nmos", "198.51.100.20/24", br)
        ifaces["arp"] = lab.host("arp", "198.51.100.30/24", br)
        lab.sysctl("arp", "net.ipv4.icmp_echo_ignore_all", "1")
        lab.host("web", "198.51.100.40/24", br)
        start_snmpd(lab, "enc", "encoder", "enc-lab-01", tmp)
        start_snmpd(lab, "rtr", "router", "rtr-lab-01", tmp)
        start_snmpd(lab, "sw", "switch", "sw-lab-01", tmp, lldp_neighbour="rtr-lab-01")
        start_nmos_node(lab, "nmos", "198.51.100.20", tmp)
        start_http(lab, "web", "198.51.100.40", tmp)
        start_tcp_listener(lab, "far1", "203.0.113.5", 22, tmp)
        time.sleep(1.0)  # snmpd, zeroconf and the listeners bind
        env = LabEnv(lab, tmp)
        env.ifaces = ifaces
        yield env


def _by_addr(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["address"]: h for h in out["hosts"]}


def test_sweep_identifies_classifies_and_tracks_changes(env: LabEnv) -> None:
    first = env.discover()
    hosts = _by_addr(first)
    enc, rtr, sw = hosts["198.51.100.10"], hosts["198.51.100.11"], hosts["198.51.100.12"]
    assert (enc["role"], enc["vendor"], enc["rule"]) == ("encoder", "Haivision",
                                                         "haivision-makito-encoder")
    assert "arp" in enc["found_by"] and "snmp" in enc["found_by"] and enc["mac"]
    assert any("snmp.sys_descr" in e for e in enc["evidence"])
    assert (rtr["role"], rtr["vendor"]) == ("router", "Cisco")
    assert (sw["role"], sw["vendor"], sw["model"]) == ("switch", "Arista", "DCS-7020TR-48")
    assert sw["snmp"]["lldp"] == [{"local_port": "3", "chassis_id": "02:00:00:00:00:99",
                                   "port_id": "Ethernet3", "sys_name": "rtr-lab-01"}]
    assert sw["snmp"]["sys_object_id"] == "1.3.6.1.4.1.30065.1.3011.7020.3736.48"
    nmos = hosts["198.51.100.20"]
    assert "_nmos-node._tcp.local." in [m["type"] for m in nmos["mdns"]]
    assert (nmos["role"], nmos["rule"]) == ("endpoint", "nmos-node")
    arp_only = hosts["198.51.100.30"]
    assert arp_only["found_by"] == ["arp"] and arp_only["role"] == "unknown"
    web = hosts["198.51.100.40"]
    assert web["http"] == {"port": 80, "server": "Kiloview-Web/2.1",
                           "title": "Kiloview D350 Decoder"}
    assert web["role"] == "decoder"
    assert hosts["203.0.113.5"]["found_by"] == ["tcp"]  # drops ICMP, answers TCP
    assert hosts["203.0.113.5"]["open_ports"] == [22]
    assert "icmp" in hosts["203.0.113.7"]["found_by"]
    assert "198.51.100.50" not in hosts and "203.0.113.9" not in hosts
    assert {e["kind"] for e in first["events"]} == {"new"}

    inv = {d["address"]: d for d in env.inventory()}
    enc_id, arp_id = inv["198.51.100.10"]["id"], inv["198.51.100.30"]["id"]
    # a manual override that the next sweep must keep
    db = Database(env.state / "agent.db")
    Inventory(db).set_overrides(enc_id, {"name": "enc-stage-left", "role": "decoder",
                                         "notes": "spare"})
    db.close()

    # the ARP-only host goes away, the encoder moves to another address
    env.lab.ip("arp", "addr", "flush", "dev", env.ifaces["arp"])
    env.lab.ip("enc", "addr", "del", "198.51.100.10/24", "dev", env.ifaces["enc"])
    env.lab.ip("enc", "addr", "add", "198.51.100.15/24", "dev", env.ifaces["enc"])
    second = env.discover()
    events = {(e["kind"], e["device"]): e["detail"] for e in second["events"]}
    assert events[("changed", enc_id)]["what"] == "address"
    assert events[("changed", enc_id)]["from"] == "198.51.100.10"
    assert events[("changed", enc_id)]["to"] == "198.51.100.15"
    assert ("gone", arp_id) in events
    inv2 = {d["id"]: d for d in env.inventory()}
    moved = inv2[enc_id]
    assert moved["address"] == "198.51.100.15"
    assert moved["previous_addresses"] == ["198.51.100.10"]
    assert (moved["name"], moved["effective_role"], moved["notes"]) == ("enc-stage-left",
                                                                        "decoder", "spare")
    assert moved["role"] == "encoder"  # the discovered value is kept beside the override
    assert inv2[arp_id]["present"] is False


def test_exports_parse_with_ansible_inventory(env: LabEnv) -> None:
    if not (env.state / "inventory" / "ansible.yml").exists():
        env.discover()
    exe = shutil.which("ansible-inventory", path=str(Path(sys.executable).parent))
    assert exe, "ansible-inventory is in the venv (ansible-core)"
    r = subprocess.run([exe, "-i", str(env.state / "inventory" / "ansible.yml"), "--list"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert "sw-lab-01" in data["switches"]["hosts"]
    assert "rtr-lab-01" in data["routers"]["hosts"]
    assert "sw-lab-01" in data["net_media"]["hosts"]
    hv = data["_meta"]["hostvars"]["sw-lab-01"]
    assert hv["ansible_host"] == "198.51.100.12" and hv["ansible_network_os"] == "arista.eos.eos"
    assert hv["flypack_vendor"] == "Arista"


BLACKBOX = """
modules:
  icmp:
    prober: icmp
    timeout: 2s
  tcp_connect:
    prober: tcp
    timeout: 2s
"""


def test_file_sd_targets_are_probed_by_blackbox_and_victoriametrics(env: LabEnv) -> None:
    vm = require_binary("victoria-metrics")
    bb = require_binary("prometheus-blackbox-exporter")
    sd = env.state / "collector" / "file_sd"
    if not (sd / "discovered-icmp.json").exists():
        env.discover()
    icmp_targets = json.loads((sd / "discovered-icmp.json").read_text())
    assert any(g["targets"] == ["198.51.100.12"] for g in icmp_targets)
    bb_port, vm_port = free_port(), free_port()
    (env.tmp / "blackbox.yml").write_text(BLACKBOX)
    scrape = {"global": {"scrape_interval": "1s"}, "scrape_configs": [
        {"job_name": f"blackbox-{kind}", "metrics_path": "/probe",
         "params": {"module": [module]},
         "file_sd_configs": [{"files": [str(sd / f"discovered-{kind}.json")]}],
         "relabel_configs": [
             {"source_labels": ["__address__"], "target_label": "__param_target"},
             {"source_labels": ["__param_target"], "target_label": "instance"},
             {"target_label": "__address__", "replacement": f"127.0.0.1:{bb_port}"}]}
        for kind, module in (("icmp", "icmp"), ("tcp", "tcp_connect"))]}
    (env.tmp / "scrape.yml").write_text(json.dumps(scrape))
    # both run INSIDE the scan namespace: they reach lab addresses only
    env.lab.spawn("scan", [bb, f"--config.file={env.tmp / 'blackbox.yml'}",
                           f"--web.listen-address=127.0.0.1:{bb_port}"], log=env.tmp / "bb.log")
    env.lab.spawn("scan", [vm, f"-httpListenAddr=127.0.0.1:{vm_port}",
                           f"-storageDataPath={env.tmp / 'vm'}",
                           f"-promscrape.config={env.tmp / 'scrape.yml'}"],
                  log=env.tmp / "vm.log")
    query = ("import httpx, sys, json\n"
             f"r = httpx.get('http://127.0.0.1:{vm_port}/api/v1/query', params={{'query': "
             "sys.argv[1]}, timeout=5)\nprint(json.dumps(r.json()))\n")
    deadline = time.monotonic() + 60
    found: dict[str, float] = {}
    while time.monotonic() < deadline and len(found) < 2:
        time.sleep(2)
        env.lab.run("scan", "python3", "-c", "import urllib.request as u; u.urlopen("
                    f"'http://127.0.0.1:{vm_port}/internal/force_flush', timeout=5)",
                    check=False)
        r = env.lab.run("scan", sys.executable, "-c", query,
                        'probe_success{device=~"sw-lab-01|far1-tcp|host-203-0-113-5"}',
                        check=False)
        if r.returncode != 0:
            continue
        for s in json.loads(r.stdout).get("data", {}).get("result", []):
            found[s["metric"]["job"]] = float(s["value"][1])
    assert found.get("blackbox-icmp") == 1.0, (found, (env.tmp / "vm.log").read_text()[-2000:])
    assert found.get("blackbox-tcp") == 1.0, found
