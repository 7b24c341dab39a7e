from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path

import pytest

from server_agent.cli import main
from tests.support import free_port


@pytest.mark.parametrize(("args", "message"), [
    (["10.0.0.0/33"], "is not a CIDR"),
    (["banana"], "is not a CIDR"),
    (["198.18.0.0/15"], "more than the limit of 65536"),
    (["224.0.0.0/24"], "not a unicast network"),
    (["2001:db8::/64"], "IPv6 sweeps are not supported"),
    (["127.89.0.0/30", "--rate", "0"], "--rate 0"),
    (["127.89.0.0/30", "--snmp-port", "70000"], "--snmp-port: '70000' is not a UDP port"),
    (["127.89.0.0/30", "--snmp-version", "2"], "--snmp-version: '2': use 2c, 3, 2c,3, 3,2c"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_privileges_exit_2(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """An on-link sweep without CAP_NET_RAW (simulated at the socket edge)."""
    import server_agent.discovery.arp as arp
    from server_agent.discovery import targets

    iface = targets.Interface("lab0", 1, b"\x02\0\0\0\0\1", int.from_bytes(
        socket.inet_aton("198.51.100.1"), "big"), ipaddress.IPv4Network("198.51.100.0/24"))
    monkeypatch.setattr(targets, "interfaces", lambda: [iface])

    def refuse() -> socket.socket:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(arp, "packet_socket", refuse)
    assert main(["discover", "198.51.100.0/24", "--no-mdns"]) == 2
    err = capsys.readouterr().err
    assert "needs root or CAP_NET_RAW" in err and "Traceback" not in err


def test_loopback_sweep_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    port = free_port("127.89.0.1")
    with socket.socket() as s:
        s.bind(("127.89.0.1", port))
        s.listen(4)
        cfg = tmp_path / "a.toml"
        cfg.write_text(f'[agent]\nstate_dir = "{tmp_path / "st"}"\n[discovery]\n'
                       f"tcp_ports = [{port}]\nsnmp_timeout_s = 0.2\ntcp_timeout_s = 0.3\n")
        rc = main(["discover", "127.89.0.0/30", "--json", "--config", str(cfg),
                   "--snmp-port", str(free_port(kind=socket.SOCK_DGRAM))])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert [(h["address"], h["open_ports"], h["found_by"]) for h in out["hosts"]] == [
        ("127.89.0.1", [port], ["tcp"])]
    assert [e["kind"] for e in out["events"]] == ["new"]
    assert (tmp_path / "st" / "inventory" / "ansible.yml").exists()


def test_sweep_out_of_time_is_a_clear_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text(f'[agent]\nstate_dir = "{tmp_path / "st"}"\n[discovery]\n'
                   "max_duration_s = 1\nrate_pps = 20\nsnmp = false\n")
    assert main(["discover", "127.89.8.0/26", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "did not finish within 1 s" in err and "Traceback" not in err
    assert not (tmp_path / "st" / "agent.db").exists()  # nothing half-written


def test_help_shows_the_snmp_versions_and_ports_readably(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    assert main(["discover", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--snmp-version 2c|3|2c,3|3,2c" in out and "{2c,3,2c,3,3,2c}" not in out
    assert "--snmp-port PORT" in out and "also the simulator's 1161" in out
