"""The settings page's mapping: form text -> FlypackSettings, each problem under its field."""

from __future__ import annotations

from desktop.provisioning.form import FormValues, NetworkRow, build, field_of, split_list


def good() -> FormValues:
    return FormValues(flypack_id="flypack-01", mgmt_interface="eth0",
                      mgmt_address="192.168.1.10/24", mgmt_gateway="192.168.1.1",
                      dns="192.168.1.1, 9.9.9.9", ntp="pool.ntp.org",
                      networks=[NetworkRow("eth1", "10.0.0.5/16", 0, True),
                                NetworkRow("eth1", "10.1.0.5/16", 20, False)])


def test_valid_form_builds_settings() -> None:
    s, problems = build(good())
    assert problems == {}
    assert s.dns == ("192.168.1.1", "9.9.9.9") and s.ntp_servers == ("pool.ntp.org",)
    assert s.monitored[0].vlan is None and s.monitored[1].vlan == 20
    assert s.monitored[1].media is False and s.mgmt_gateway == "192.168.1.1"


def test_problems_land_under_their_fields() -> None:
    v = good()
    v.flypack_id = "Flypack 1"
    v.mgmt_gateway = ""
    v.dns = "dns.example"
    v.networks[1] = NetworkRow("eth1", "192.168.1.77/16", 0, True)  # overlaps, eth1 twice
    _, problems = build(v)
    assert set(problems) == {"flypack_id", "dns", "net:2"}, problems
    assert any("overlaps" in m for m in problems["net:2"])
    assert any("used twice" in m for m in problems["net:2"])
    for messages in problems.values():
        assert all(len(m) > 20 for m in messages)  # sentences, not codes


def test_gateway_and_port_and_admin() -> None:
    v = good()
    v.mgmt_gateway = "10.9.9.9"
    v.agent_port = 22
    v.admin_user = "Admin!"
    _, problems = build(v)
    assert set(problems) == {"mgmt_gateway", "agent_port", "admin_user"}
    v = good()
    v.mgmt_address = "192.168.1.0/24"  # the network address
    _, problems = build(v)
    assert set(problems) == {"mgmt_address"} and "host address" in problems["mgmt_address"][0]


def test_field_of_unknown_message_goes_to_the_form() -> None:
    assert field_of("something else entirely") == "form"
    assert field_of("monitored network 12 (eth3): x") == "net:12"


def test_split_list() -> None:
    assert split_list(" a, b;c  d ") == ("a", "b", "c", "d")
    assert split_list("   ") == ()
