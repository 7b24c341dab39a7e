"""End to end on a real fresh Bookworm (no python3) under qemu: deploy/site.yml through the
same DeployDriver the wizard uses, with the offline bundle, then the guest's actual state.

The bundle has no container images (this build host has no container engine): the test
checks that the compose project is deployed and valid and that the deploy names the
services waiting for images, not that containers run.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from tests.provision.vm import MEDIA_GUEST, MGMT_GUEST, VLAN_GUEST, Provisioned, run_deploy

pytestmark = [pytest.mark.slow, pytest.mark.real, pytest.mark.timeout(3600)]

MGMT_IP = MGMT_GUEST.split("/")[0]
MEDIA_IP = MEDIA_GUEST.split("/")[0]

# run inside the lab namespace: the laptop's view from the management network
TLS_PROBE = r"""
import hashlib, json, socket, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection((host, port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=host) as s:
        der = s.getpeercert(binary_form=True)
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        body = b""
        while chunk := s.recv(65536):
            body += chunk
        print(json.dumps({"version": s.version(), "sha256": hashlib.sha256(der).hexdigest(),
                          "status": body.split(b" ", 2)[1].decode(),
                          "body": body.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")}))
"""
CONNECT = ("import socket, sys\n"
           "try:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)\n"
           " print('open')\nexcept OSError as e:\n print('closed', e)\n")


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[provisioning] {line}", file=sys.stderr)


def test_deploy_brings_a_bare_bookworm_to_a_healthy_agent(
        provisioned_vm: Provisioned, capsys: pytest.CaptureFixture[str]) -> None:
    p, vm = provisioned_vm, provisioned_vm.vm
    _report(capsys, f"start -> healthy agent: {p.seconds:.0f} s (first deploy, TCG guest)")
    assert not p.python_before, "the test image must start without python3 (design §5b)"
    assert p.result.status == "successful", p.result.message
    assert p.result.changed > 0
    assert p.result.agent_url == f"https://{MGMT_IP}:8443"
    assert p.result.admin_user == "admin" and p.result.admin_password
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", p.result.fingerprint or "")
    kinds = {e.kind for e in p.events}
    assert {"play", "role", "task", "changed", "ok"} <= kinds
    roles = [e.role for e in p.events if e.kind == "role"]
    assert roles[:1] == ["bootstrap"] and "agent" in roles and "firewall" in roles

    # the checksums were checked on the target and the bundle's apt repository was used
    rc, out = vm.ssh("ls /var/cache/flypack-bundle/current/.verified "
                     "/etc/apt/sources.list.d/flypack-bundle.list")
    assert rc == 0, out

    # netplan (systemd-networkd) in charge, static addresses up, ifupdown retired
    rc, out = vm.ssh("cat /etc/network/interfaces; networkctl list --no-legend; "
                     "ip -4 -o addr show dev eth1; ip -4 -o addr show dev eth2; "
                     "ip -4 -o addr show dev eth2.100; ip -d link show eth2.100; "
                     "sysctl -n net.ipv4.conf.eth2.rp_filter net.ipv4.conf.eth2/100.rp_filter")
    assert rc == 0, out
    for dev, kind in (("eth1", "ether"), ("eth2", "ether"), (r"eth2\.100", "vlan")):
        assert re.search(rf"{dev}\s+{kind}\s+routable\s+configured", out), out
    assert MGMT_GUEST in out and MEDIA_GUEST in out and VLAN_GUEST in out
    assert "vlan protocol 802.1Q id 100" in out
    assert "iface eth0" not in out and out.split()[-2:] == ["2", "2"]
    assert vm.lab_run("ping", "-c", "2", "-W", "3", MGMT_IP).returncode == 0
    assert vm.lab_run("ping", "-c", "2", "-W", "3", MEDIA_IP).returncode == 0

    # nftables: our table only, policy drop, admin services from the management network
    rc, out = vm.ssh("nft list table inet flypack; nft list tables")
    assert rc == 0, out
    assert "policy drop" in out and "198.51.100.0/24" in out
    assert re.search(r'iifname \{ "eth2", "eth2\.100" \} ip protocol igmp accept', out), out
    # dockerd makes both on start (its DOCKER chains), through iptables-nft
    assert "table ip filter" in out and "table ip nat" in out, "Docker's tables must survive"
    mgmt = vm.lab_run("python3", "-c", CONNECT, MGMT_IP, "8443").stdout
    assert mgmt.startswith("open"), mgmt
    # from the media network (203.0.113.1, not the management network) the agent is closed
    media = vm.lab_run("python3", "-c", CONNECT, MEDIA_IP, "8443").stdout
    assert media.startswith("closed"), media

    # the agent: unit active with CAP_NET_RAW, TLS 1.3 with the reported fingerprint
    rc, out = vm.ssh("systemctl is-active flypack-agent; "
                     "systemctl show -p AmbientCapabilities -p User flypack-agent")
    assert rc == 0 and out.startswith("active"), out
    assert "cap_net_raw" in out and "User=flypack" in out
    probe = vm.lab_run("python3", "-c", TLS_PROBE, MGMT_IP, "8443")
    assert probe.returncode == 0, probe.stderr
    tls = json.loads(probe.stdout)
    assert tls["version"] == "TLSv1.3" and tls["status"] == "200", tls
    expected = (p.result.fingerprint or "").replace(":", "").lower()
    assert re.fullmatch(r"[0-9a-f]{64}", expected), p.result.fingerprint
    assert tls["sha256"] == expected  # the certificate served is the one the deploy reported

    # the monitoring stack's compose project: present, valid, Docker running
    rc, out = vm.ssh("cd /opt/flypack/compose && docker-compose config -q && "
                     "grep -E '^(FLYPACK|AGENT_PORT)=' .env && systemctl is-active docker")
    assert rc == 0, out
    assert "FLYPACK=flypack-vm" in out and "AGENT_PORT=8443" in out
    waiting = [e.message for e in p.events if "not started (image not on this server" in
               e.message]
    assert waiting or any(e.task == "Start the services whose images are present"
                          for e in p.events)


def test_second_run_changes_nothing(provisioned_vm: Provisioned, tmp_path: object,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    result, events, seconds = run_deploy(provisioned_vm.vm, provisioned_vm.bundle,
                                         Path(str(tmp_path)))
    _report(capsys, f"second (no-change) run: {seconds:.0f} s")
    changed = [f"{e.role}: {e.task}" for e in events if e.kind == "changed"]
    assert result.status == "successful", result.message
    assert result.changed == 0 and not changed, changed
    assert result.admin_password is None  # the admin existed: its password is not reset
    assert result.fingerprint == provisioned_vm.result.fingerprint
