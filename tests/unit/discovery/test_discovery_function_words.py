"""Issue 14 finding 10: what a device says of its own function outweighs its product family,
and the evidence quotes the words that decided."""

from __future__ import annotations

import pytest

from server_agent.contract import DeviceRole
from server_agent.discovery.errors import RulesError
from server_agent.discovery.rules import load_rules, parse_rules

RULES = load_rules()


@pytest.mark.parametrize(("facts", "role", "family_rule", "words"), [
    # held-out kinds: the family (Monarch, Teradek, Cisco) is known for the other role
    ({"snmp.sys_descr": "Matrox Monarch EDGE decoder, firmware 2.04.01"},
     DeviceRole.decoder, "matrox-monarch", "decoder"),
    ({"http.title": "Teradek Prism Decoder - Status"}, DeviceRole.decoder, "teradek-http",
     "Decoder"),
    ({"snmp.sys_descr": "Cisco D9800 Network Transport Receiver IRD, version 3.2",
      "snmp.sys_object_id": "1.3.6.1.4.1.9.1.3000"},
     DeviceRole.decoder, "cisco-enterprise-oid", "IRD"),
    ({"snmp.sys_descr": "Kiloview E3 HEVC video encoder, firmware 1.2"},
     DeviceRole.encoder, "kiloview-encoder", "encoder"),
    # plural words speak of other devices: "for Makito encoders" does not make an encoder
    ({"snmp.sys_descr": "Matrox Monarch EDGE decoder for Makito encoders, firmware 2"},
     DeviceRole.decoder, "matrox-monarch", "decoder"),
])
def test_the_devices_own_words_decide_the_role(facts: dict[str, str], role: DeviceRole,
                                               family_rule: str, words: str) -> None:
    v = RULES.classify(facts)
    assert v.role is role, v
    assert v.rule == family_rule  # vendor and model still come from the family rule
    first = v.evidence[0]
    assert first.startswith(f"role {role.value}: ") and f"says {words!r}" in first, v.evidence


def test_the_override_names_the_family_role_it_overruled() -> None:
    v = RULES.classify({"snmp.sys_descr": "Matrox Monarch EDGE decoder, firmware 2.04.01"})
    assert (v.vendor, v.model) == ("Matrox", "Monarch EDGE")
    assert "over encoder from the family rule matrox-monarch" in v.evidence[0]
    assert any("matrox monarch" in e for e in v.evidence[1:])  # the family's evidence stays


def test_a_device_naming_two_functions_keeps_the_family_role() -> None:
    v = RULES.classify({"snmp.sys_descr": "Matrox Monarch EDGE encoder/decoder"})
    assert (v.role, v.rule) == (DeviceRole.encoder, "matrox-monarch")
    assert v.evidence[0].startswith("names several functions")
    assert "'encoder'" in v.evidence[0] and "'decoder'" in v.evidence[0]


def test_function_words_without_a_family() -> None:
    v = RULES.classify({"snmp.sys_descr": "ACME 4000 contribution decoder", "oui_vendor": "ACME"})
    assert (v.role, v.vendor, v.rule) == (DeviceRole.decoder, "ACME", "functions.decoder")
    assert v.evidence == [
        "role decoder: snmp.sys_descr says 'decoder' (/(?i)\\bdecoder\\b|\\bIRD\\b/)"]
    # a video (SDI) router moves baseband video: not an IP router
    assert RULES.classify({"snmp.sys_descr": "Ross Ultrix video router"}).role \
        is DeviceRole.unknown
    assert RULES.classify({"snmp.sys_descr": "ACME edge router"}).role is DeviceRole.router


def test_agreeing_words_are_shown_too() -> None:
    v = RULES.classify({"snmp.sys_descr": "Haivision Makito X4 video decoder, firmware 1.9"})
    assert (v.role, v.rule) == (DeviceRole.decoder, "haivision-makito-decoder")
    assert v.evidence[0] == ("role decoder: snmp.sys_descr says 'decoder' "
                             "(/(?i)\\bdecoder\\b|\\bIRD\\b/)")
    assert "on 'Haivision Makito X4 video decoder'" in v.evidence[1]


@pytest.mark.parametrize(("text", "message"), [
    ("rules: []\nfunctions: {decoder: x}", "'functions' is a list"),
    ("rules: []\nfunctions: [{role: decoder}]", "exactly 'role' and 'words'"),
    ("rules: []\nfunctions: [{role: unknown, words: x}]", "role 'unknown' is not one"),
    ("rules: []\nfunctions: [{role: decoder, words: x}, {role: decoder, words: y}]",
     "listed twice"),
    ("rules: []\nfunctions: [{role: decoder, words: '('}]", "functions[0]: words: bad regular"),
])
def test_bad_functions_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(RulesError) as e:
        parse_rules(text, "my-rules.yaml")
    assert str(e.value).startswith("my-rules.yaml") and message in str(e.value)


def test_a_rules_file_without_functions_still_works() -> None:
    rs = parse_rules("rules: [{name: m, role: encoder, match: {snmp.sys_descr: 'Monarch'}}]",
                     "old.yaml")
    v = rs.classify({"snmp.sys_descr": "Monarch EDGE decoder"})
    assert (v.role, v.rule) == (DeviceRole.encoder, "m")
