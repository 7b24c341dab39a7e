from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import yaml

from server_agent.discovery.exports import export_ansible_inventory, export_file_sd, write_exports
from server_agent.discovery.identify import oui_vendor
from server_agent.discovery.inventory import Inventory
from server_agent.discovery.model import Host, SnmpInfo
from server_agent.discovery.rules import load_rules
from server_agent.store.db import Database

NET = [ipaddress.IPv4Network("198.51.100.0/24")]
RULES = load_rules()


def _host(addr: str, mac: str | None = None, descr: str = "", name: str = "",
          engine: str = "") -> Host:
    h = Host(address=addr, network="198.51.100.0/24", mac=mac, via={"arp"} if mac else {"tcp"},
             open_ports=[] if mac else [22])
    if descr:
        h.snmp = SnmpInfo(sys_name=name, sys_descr=descr, engine_id=engine)
        h.via.add("snmp")
    return h


def _merge(inv: Inventory, hosts: list[Host], run: str) -> list[dict[str, object]]:
    by = {h.address: h for h in hosts}
    return inv.merge(by, {a: RULES.classify(h.facts()) for a, h in by.items()}, NET, run)


ENC = "Haivision Makito X4 H.264/HEVC video encoder, firmware 1"


def test_new_changed_gone_and_stable_ids(tmp_path: Path) -> None:
    inv = Inventory(Database(tmp_path / "a.db"), gone_after=2)
    ev = _merge(inv, [_host("198.51.100.10", "00:11:22:33:44:55", ENC, "enc-1"),
                      _host("198.51.100.20", "00:11:22:33:44:66"),
                      _host("198.51.100.30")], "r1")
    assert [e["kind"] for e in ev] == ["new", "new", "new"]
    ids = {d["address"]: d["id"] for d in inv.devices()}
    assert all(i.startswith("d-") and len(i) == 12 for i in ids.values())
    # the encoder moves (same MAC), .20 is silent once (not gone yet: gone_after=2)
    ev = _merge(inv, [_host("198.51.100.11", "00:11:22:33:44:55", ENC, "enc-1"),
                      _host("198.51.100.30")], "r2")
    assert ev == [{"device": ids["198.51.100.10"], "kind": "changed",
                   "detail": {"what": "address", "from": "198.51.100.10",
                              "to": "198.51.100.11", "mac": "00:11:22:33:44:55"}}]
    dev = inv.get(ids["198.51.100.10"])
    assert dev is not None and dev["previous_addresses"] == ["198.51.100.10"]
    ev = _merge(inv, [_host("198.51.100.11", "00:11:22:33:44:55", ENC, "enc-1"),
                      _host("198.51.100.30")], "r3")
    assert ev == [{"device": ids["198.51.100.20"], "kind": "gone",
                   "detail": {"address": "198.51.100.20", "missed_sweeps": 2}}]
    ev = _merge(inv, [_host("198.51.100.20", "00:11:22:33:44:66")], "r4")
    assert [e["kind"] for e in ev] == ["back"]
    assert [e["kind"] for e in inv.events()] == ["new"] * 3 + ["changed", "gone", "back"]


def test_address_taken_by_another_mac_is_a_change(tmp_path: Path) -> None:
    inv = Inventory(Database(tmp_path / "a.db"))
    _merge(inv, [_host("198.51.100.10", "00:11:22:33:44:55")], "r1")
    ev = _merge(inv, [_host("198.51.100.10", "00:aa:bb:cc:dd:ee")], "r2")
    kinds = [(e["kind"], e["detail"].get("what")) for e in ev]
    assert ("changed", "mac") in kinds and ("new", None) in kinds


def test_overrides_survive_sweeps(tmp_path: Path) -> None:
    inv = Inventory(Database(tmp_path / "a.db"))
    _merge(inv, [_host("198.51.100.10", "00:11:22:33:44:55", ENC, "enc-1")], "r1")
    dev_id = inv.devices()[0]["id"]
    inv.set_overrides(dev_id, {"name": "stage-left", "role": "decoder", "notes": "n"})
    _merge(inv, [_host("198.51.100.10", "00:11:22:33:44:55", ENC, "enc-1")], "r2")
    d = inv.get(dev_id)
    assert d is not None
    assert (d["name"], d["effective_role"], d["role"], d["notes"]) == (
        "stage-left", "decoder", "encoder", "n")
    inv.set_overrides(dev_id, {"role": None})
    d = inv.get(dev_id)
    assert d is not None and d["effective_role"] == "encoder" and d["name"] == "stage-left"


def test_one_router_on_two_addresses_is_one_device(tmp_path: Path) -> None:
    inv = Inventory(Database(tmp_path / "a.db"))
    r = "Cisco IOS XE Software, ASR920 Software"
    _merge(inv, [_host("198.51.100.1", "00:11:22:33:44:01", r, "rtr", "80001f88"),
                 _host("198.51.100.2", None, r, "rtr", "80001f88"),
                 _host("198.51.100.3", None, ENC, "other", "80001f88")], "r1")
    devs = inv.devices()
    assert [d["address"] for d in devs] == ["198.51.100.1", "198.51.100.3"]
    assert devs[0]["facts"]["other_addresses"] == ["198.51.100.2"]


def test_exports_are_safe_and_parse(tmp_path: Path) -> None:
    inv = Inventory(Database(tmp_path / "a.db"))
    _merge(inv, [_host("198.51.100.10", "00:11:22:33:44:55", ENC, "{{ lookup('pipe','id') }}"),
                 _host("198.51.100.11", "00:11:22:33:44:56", "Arista Networks EOS version 4 "
                       "running on an Arista DCS-7020TR-48", "sw1"),
                 _host("198.51.100.12")], "r1")
    text = export_ansible_inventory(inv.devices(), "fp-1", {"media": "198.51.100.0/24"})
    assert "{{" not in text and "{%" not in text
    data = yaml.safe_load(text)
    assert set(data["all"]["children"]) >= {"encoders", "switches", "other", "net_media"}
    assert "sw1" in data["all"]["children"]["switches"]["hosts"]
    sd = export_file_sd(inv.devices(), "fp-1")
    assert {g["targets"][0] for g in sd["icmp"]} == {"198.51.100.10", "198.51.100.11"}
    assert sd["tcp"][0]["targets"] == ["198.51.100.12:22"]
    paths = write_exports(tmp_path / "state", inv.devices(), "fp-1")
    assert json.loads(paths[1].read_text()) == sd["icmp"]
    exe = Path(sys.executable).with_name("ansible-inventory")
    r = subprocess.run([str(exe), "-i", str(paths[0]), "--list"], capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    hv = json.loads(r.stdout)["_meta"]["hostvars"]
    assert hv["sw1"]["ansible_network_os"] == "arista.eos.eos"


def test_oui_vendor_from_the_ieee_registry() -> None:
    assert "Cisco" in oui_vendor("00:00:0c:12:34:56")
    assert oui_vendor("02:00:00:00:00:01") == ""  # locally administered
    assert oui_vendor("not a mac") == ""
