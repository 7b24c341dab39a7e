"""FlypackSettings validation and the deploy's host variables."""

from __future__ import annotations

from dataclasses import replace

from desktop.provisioning.settings import (
    FlypackSettings,
    MonitoredNetwork,
    Target,
    to_host_vars,
    validate,
    validate_target,
)

SEED = FlypackSettings(
    flypack_id="flypack-01", mgmt_interface="eth0", mgmt_address="192.168.1.10/24",
    mgmt_gateway="192.168.1.1", dns=("192.168.1.1",), ntp_servers=("192.168.1.1",),
    monitored=(MonitoredNetwork("eth1", "10.0.0.5/16"),
               MonitoredNetwork("eth1", "10.1.0.5/24", vlan=20, media=False)))


def _one(s: FlypackSettings, *words: str) -> str:
    problems = validate(s)
    assert len(problems) == 1, problems
    for w in words:
        assert w in problems[0], problems[0]
    return problems[0]


def test_seed_settings_are_valid_and_become_host_vars() -> None:
    assert validate(SEED) == []
    v = to_host_vars(SEED)
    assert v["flypack_mgmt_ip"] == "192.168.1.10"
    assert v["flypack_mgmt_network"] == "192.168.1.0/24"
    mon = v["flypack_monitored"]
    assert isinstance(mon, list)
    assert mon[0] == {"interface": "eth1", "device": "eth1", "address": "10.0.0.5/16",
                      "network": "10.0.0.0/16", "vlan": None, "media": True}
    assert mon[1]["device"] == "eth1.20" and mon[1]["media"] is False


def test_bad_addresses_say_what_to_write() -> None:
    _one(replace(SEED, mgmt_address="192.168.1.300/24"), "192.168.1.10/24")
    _one(replace(SEED, mgmt_address="192.168.1.10"), "no prefix")
    _one(replace(SEED, mgmt_address="192.168.1.0/24"), "network address", "host address")
    _one(replace(SEED, mgmt_address="192.168.1.255/24"), "broadcast")
    _one(replace(SEED, mgmt_gateway="192.168.2.1"), "outside 192.168.1.0/24")


def test_overlaps_and_duplicates_are_refused() -> None:
    _one(replace(SEED, monitored=(MonitoredNetwork("eth1", "192.168.1.20/25"),)), "overlaps")
    _one(replace(SEED, monitored=(MonitoredNetwork("eth1", "10.0.0.5/16"),
                                  MonitoredNetwork("eth1", "10.9.0.5/16"))), "used twice")
    _one(replace(SEED, monitored=(MonitoredNetwork("eth0", "10.0.0.5/16"),)), "used twice")
    _one(replace(SEED, monitored=(MonitoredNetwork("eth1", "10.0.0.5/16", vlan=5000),)),
         "1..4094")


def test_id_port_and_user_rules() -> None:
    _one(replace(SEED, flypack_id="Flypack_01"), "lower-case", "flypack-01")
    _one(replace(SEED, agent_port=70000), "1..65535")
    _one(replace(SEED, agent_port=22), "SSH")
    _one(replace(SEED, admin_user="Admin User"), "admin user")
    _one(replace(SEED, mgmt_interface="eth 0"), "interface name")


def test_target_needs_a_credential_and_a_sane_pin() -> None:
    assert validate_target(Target("198.51.100.7", password="x")) == []
    assert any("password or a private key" in p for p in validate_target(Target("h")))
    assert any("SHA256:" in p for p in validate_target(
        Target("h", password="x", host_key_sha256="abc")))
