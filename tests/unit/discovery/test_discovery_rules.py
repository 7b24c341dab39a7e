from __future__ import annotations

from pathlib import Path

import pytest

from server_agent.contract import DeviceRole
from server_agent.discovery.errors import RulesError
from server_agent.discovery.rules import load_rules, parse_rules
from server_agent.sim.model import CATALOG


def test_shipped_rules_classify_every_simulated_kind() -> None:
    rules = load_rules()
    for role, kinds in CATALOG.items():
        for k in kinds:
            v = rules.classify({"snmp.sys_descr": k.descr.format(fw=k.firmware),
                                "snmp.sys_object_id": k.sys_object_id})
            assert v.role is role, (k, v)
            assert v.rule and v.evidence


def test_verdict_shows_the_deciding_evidence_and_fills_groups() -> None:
    v = load_rules().classify({"snmp.sys_descr": "Arista Networks EOS version 4.31 running on "
                                                 "an Arista DCS-7050SX3"})
    assert (v.role, v.vendor, v.model, v.rule) == (DeviceRole.switch, "Arista", "DCS-7050SX3",
                                                   "arista-switch")
    assert v.evidence[0].startswith("snmp.sys_descr 'Arista Networks")
    assert v.vars == {"ansible_network_os": "arista.eos.eos"}


def test_list_facts_and_oui_fallback() -> None:
    rules = load_rules()
    assert rules.classify({"mdns.services": ["_nmos-node._tcp.local."]}).rule == "nmos-node"
    assert rules.classify({"open_ports": [22, 554]}).role is DeviceRole.endpoint
    v = rules.classify({"oui_vendor": "Cisco Systems, Inc"})
    assert (v.role, v.vendor, v.rule) == (DeviceRole.unknown, "Cisco Systems, Inc", "")


@pytest.mark.parametrize(("text", "message"), [
    ("rules: [", "not valid YAML"),
    ("foo: 1", "expected a mapping with a 'rules' list"),
    ("rules: [{name: a, role: wizard, match: {oui_vendor: x}}]", "role 'wizard' is not one"),
    ("rules: [{name: a, role: encoder, match: {snmp.sysdescr: x}}]",
     "match.snmp.sysdescr: unknown fact"),
    ("rules: [{name: a, role: encoder, match: {snmp.sys_descr: '('}}]",
     "bad regular expression"),
    ("rules: [{name: a, role: encoder, match: {open_ports: http}}]", "give a int"),
    ("rules: [{name: a, role: encoder, model: '{m}', match: {oui_vendor: x}}]",
     "{m} names no (?P<m>...) group"),
    ("rules: [{name: a, role: encoder, match: {oui_vendor: x}},"
     " {name: a, role: encoder, match: {oui_vendor: y}}]", "used twice"),
    ("rules: [{name: a, role: encoder, colour: red, match: {oui_vendor: x}}]",
     "unknown key 'colour'"),
])
def test_bad_rules_files_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(RulesError) as e:
        parse_rules(text, "my-rules.yaml")
    assert str(e.value).startswith("my-rules.yaml")
    assert message in str(e.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="no such rules file"):
        load_rules(tmp_path / "nope.yaml")


def test_a_bad_operator_rules_file_stops_the_agent_with_a_clear_error(tmp_path: Path) -> None:
    from server_agent.config import ConfigError
    from server_agent.runtime import build_services
    from tests.unit.conftest import make_config

    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - {name: x, role: encoder, match: {snmp.sys_descr: '(('}}\n")
    cfg = make_config(tmp_path, discovery={"rules_file": str(bad)})
    with pytest.raises(ConfigError, match=r"rules_file: .*rules\[0\] \(x\).*bad regular"):
        build_services(cfg)
