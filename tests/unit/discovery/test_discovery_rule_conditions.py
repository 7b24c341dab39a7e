"""A rule matches only when every one of its conditions holds (text and list facts, several
values in one list condition): one condition out of two is not a match."""

from __future__ import annotations

from server_agent.contract import DeviceRole
from server_agent.discovery.rules import parse_rules

RULES = """
version: 1
rules:
  - name: two-texts
    role: encoder
    vendor: Acme
    match: {snmp.sys_descr: "(?i)acme", http.title: "(?i)streambox"}
  - name: two-ports
    role: endpoint
    match: {open_ports: [22, 554]}
"""


def test_both_text_conditions_must_hold() -> None:
    rules = parse_rules(RULES, "<test>")
    both = rules.classify({"snmp.sys_descr": "ACME box", "http.title": "StreamBox 3"})
    assert (both.rule, both.role) == ("two-texts", DeviceRole.encoder)
    assert len(both.evidence) >= 2  # one line per condition that held
    for facts in ({"snmp.sys_descr": "ACME box"}, {"http.title": "StreamBox 3"},
                  {"snmp.sys_descr": "ACME box", "http.title": "other"}):
        assert rules.classify(facts).rule != "two-texts", facts


def test_every_value_of_a_list_condition_must_be_present() -> None:
    rules = parse_rules(RULES, "<test>")
    assert rules.classify({"open_ports": [22, 80, 554]}).rule == "two-ports"
    for ports in ([22], [554], [22, 80], []):
        assert rules.classify({"open_ports": ports}).rule != "two-ports", ports
