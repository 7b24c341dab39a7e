"""deploy/: the playbook parses, the roles' templates render what the server needs, and
ansible-lint (production profile) passes."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

from desktop.provisioning.settings import FlypackSettings, MonitoredNetwork, to_host_vars
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
SETTINGS = FlypackSettings(
    "flypack-01", "eth0", "192.168.1.10/24", mgmt_gateway="192.168.1.1", dns=("192.168.1.1",),
    monitored=(MonitoredNetwork("eth1", "10.0.0.5/16"),
               MonitoredNetwork("eth1", "10.1.0.5/24", vlan=20, media=False)))


def _render(role: str, name: str, **extra: object) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(DEPLOY / "roles" / role / "templates"),
                             undefined=jinja2.StrictUndefined, trim_blocks=True)
    env.filters["to_json"] = lambda v: __import__("json").dumps(v)
    defaults = yaml.safe_load((DEPLOY / "roles" / role / "defaults" / "main.yml").read_text())
    return env.get_template(name).render(ansible_managed="Ansible managed",
                                         **{**defaults, **to_host_vars(SETTINGS), **extra})


def test_netplan_has_static_addresses_vlan_and_keeps_the_dhcp_uplink() -> None:
    doc = yaml.safe_load(_render("network", "60-flypack.yaml.j2", network_dhcp_interface="ens9",
                                   network_connection_interface="ens9"))
    net = doc["network"]
    assert net["renderer"] == "networkd"
    eth0 = net["ethernets"]["eth0"]
    assert eth0["addresses"] == ["192.168.1.10/24"] and eth0["dhcp4"] is False
    assert eth0["routes"] == [{"to": "default", "via": "192.168.1.1"}]
    assert net["ethernets"]["eth1"]["addresses"] == ["10.0.0.5/16"]
    assert net["ethernets"]["ens9"] == {"dhcp4": True, "critical": True, "dhcp6": False,
                                        "accept-ra": False}
    assert net["vlans"]["eth1.20"]["id"] == 20 and net["vlans"]["eth1.20"]["link"] == "eth1"


def test_firewall_rules_keep_docker_and_open_media_only_on_media_nics() -> None:
    text = _render("firewall", "nftables.conf.j2", firewall_deployer_source="198.51.100.99")
    assert "\nflush ruleset" not in text and "\ndelete table inet flypack" in text
    assert "elements = { 192.168.1.0/24 }" in text
    assert "tcp dport { 22, 8443, 3000 } accept" in text
    assert 'iifname { "eth1" } ip protocol igmp accept' in text  # eth1.20 is not media
    assert "ip saddr 198.51.100.99 tcp dport 22 accept" in text
    for line in text.splitlines():  # every address in the rules is a real network
        for word in line.replace(",", " ").split():
            if word[0].isdigit() and "/" in word:
                ipaddress.ip_network(word)


def test_media_rp_filter_uses_sysctl_syntax_for_vlans() -> None:
    m = [{"device": "eth1.20", "media": True}, {"device": "eth2", "media": False}]
    text = _render("network", "60-flypack-media.conf.j2", flypack_monitored=m)
    assert "net.ipv4.conf.eth1/20.rp_filter = 2" in text and "eth2" not in text


def test_playbook_syntax(tmp_path: Path) -> None:
    env = {**os.environ, "ANSIBLE_CONFIG": str(DEPLOY / "ansible.cfg"),
           "ANSIBLE_LOCAL_TEMP": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i",
                           str(DEPLOY / "inventories" / "flypack-01"), str(DEPLOY / "site.yml")],
                          capture_output=True, text=True, env=env, cwd=DEPLOY, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_ansible_lint_production_profile(tmp_path: Path) -> None:
    proc = subprocess.run([str(BIN / "ansible-lint"), "--offline", "--nocolor", "site.yml",
                           "roles", "inventories"], capture_output=True, text=True, cwd=DEPLOY,
                          env={**os.environ, "HOME": str(tmp_path)}, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "production" in proc.stderr


def test_stack_env_sets_every_variable_compose_requires() -> None:
    compose = ROOT / "compose" / "docker-compose.yml"
    import re

    text = _render("stack", "env.j2", stack_env={"VM_RETENTION": "180d"})
    env = dict(line.split("=", 1) for line in text.splitlines()
               if line and not line.startswith("#"))
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose.read_text()))
    assert required and required <= set(env), required - set(env)
    assert env["FLYPACK"] == "flypack-01" and env["GRAFANA_BIND"] == "192.168.1.10"
    assert env["VM_RETENTION"] == "180d"


def test_rendered_agent_config_loads(tmp_path: Path) -> None:
    from server_agent.config import load_config

    (tmp_path / "agent.crt").write_text("cert")
    (tmp_path / "agent.key").write_text("key")
    cfg = tmp_path / "agent.toml"
    cfg.write_text(_render("agent", "agent.toml.j2", agent_config_dir=str(tmp_path),
                           agent_state_dir=str(tmp_path / "state")))
    config = load_config(cfg)
    assert config.agent.flypack == "flypack-01" and config.agent.port == 8443
    assert config.agent.listen == "0.0.0.0"
    assert [n.cidr for n in config.networks] == ["192.168.1.0/24", "10.0.0.0/16", "10.1.0.0/24"]
