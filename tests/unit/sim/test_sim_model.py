from __future__ import annotations

import ipaddress

import pytest

from server_agent.config import ConfigError, SimSection, parse_config
from server_agent.contract import DeviceRole
from server_agent.sim.model import build_devices, device_section, resolve_ports
from server_agent.sim.snmp import snmprec


def test_small_segment_shape() -> None:
    devs = build_devices(SimSection(enabled=True))
    roles = [d.role for d in devs]
    assert roles.count(DeviceRole.encoder) == 12 and roles.count(DeviceRole.router) == 4
    assert roles.count(DeviceRole.endpoint) == 20 and roles.count(DeviceRole.decoder) == 2
    assert roles.count(DeviceRole.switch) == 2
    names = [d.name for d in devs]
    assert len(set(names)) == len(names)
    assert {"enc-01", "rtr-04", "ep-020", "dec-02", "sw-01"} <= set(names)
    assert len({d.address for d in devs}) == len(devs)
    for d in devs:
        assert ipaddress.ip_address(d.address) in ipaddress.ip_network("127.77.0.0/16")
        assert d.kind.vendor and d.kind.model and d.kind.sys_object_id.startswith("1.3.6.1.4.1.")
    by = {d.name: d for d in devs}
    assert by["enc-01"].address == "127.77.1.1" and by["ep-020"].address == "127.77.5.20"
    assert by["enc-01"].http and not by["rtr-01"].http


def test_seed_scale_and_streams() -> None:
    devs = build_devices(SimSection(enabled=True, scale="seed", base_address="127.78.0.0"))
    roles = [d.role for d in devs]
    assert (roles.count(DeviceRole.encoder), roles.count(DeviceRole.router),
            roles.count(DeviceRole.endpoint)) == (50, 20, 100)
    streams = [d.stream for d in devs if d.stream]
    assert [s.url for s in streams] == ["udp://@127.78.200.1:5001", "udp://@127.78.200.2:5002",
                                        "udp://@127.78.200.3:5003"]
    assert all(s.device.startswith("enc-") for s in streams)


def test_device_section_probes_the_services() -> None:
    cfg = SimSection(enabled=True, echo_port=7007, tcp_port=8023)
    dev = build_devices(cfg)[0]
    sec = device_section(dev, resolve_ports(cfg))
    assert sec.probes == ["icmp", "udp:7007", "tcp:8023"]
    assert sec.name == "enc-01" and sec.role is DeviceRole.encoder and sec.vendor


@pytest.mark.parametrize("base", ["10.0.0.0", "192.168.1.0", "127.77.1.0", "nope"])
def test_base_address_must_be_loopback_block(base: str) -> None:
    with pytest.raises(ConfigError, match=r"sim\.base_address"):
        parse_config({"sim": {"base_address": base}}, "t.toml")


def test_snmprec_is_sorted_and_complete() -> None:
    dev = build_devices(SimSection(enabled=True))[0]
    text = snmprec(dev, 0)
    oids = [line.split("|")[0] for line in text.splitlines()]
    assert oids == sorted(oids, key=lambda o: tuple(int(x) for x in o.split(".")))
    assert f"1.3.6.1.2.1.1.5.0|4|{dev.name}" in text
    assert "1.3.6.1.2.1.1.3.0|67:numeric|" in text  # sysUpTime grows
    assert "1.3.6.1.2.1.31.1.1.1.6.1|70:numeric|" in text  # ifHCInOctets grows
