"""DeployDriver without a target: validation, the inventory, and the event mapping.

The real deploy (a fresh Bookworm under qemu) is tests/provision/test_deploy_vm.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import yaml

from desktop.provisioning.deploy import DeployDriver, DeployEvent, _Collector
from desktop.provisioning.settings import FlypackSettings, MonitoredNetwork, Target

SETTINGS = FlypackSettings("flypack-01", "eth0", "192.168.1.10/24",
                           monitored=(MonitoredNetwork("eth1", "10.0.0.5/16"),))
TARGET = Target("198.51.100.7", password="s3cret-pass", become_password="sudo-pass")


def test_invalid_settings_fail_before_connecting(tmp_path: Path) -> None:
    bad = FlypackSettings("flypack-01", "eth0", "192.168.1.10/24",
                          monitored=(MonitoredNetwork("eth1", "192.168.1.99/24"),))
    events: list[DeployEvent] = []
    result = DeployDriver(TARGET, bad, bundle=None, workdir=tmp_path).run(
        events.append, threading.Event())
    assert result.status == "failed" and "overlaps" in result.message
    assert events == [] and list(tmp_path.iterdir()) == []


def test_missing_bundle_is_named(tmp_path: Path) -> None:
    result = DeployDriver(TARGET, SETTINGS, bundle=tmp_path / "nope.tar", workdir=tmp_path,
                          ansible_playbook="/bin/true").run(lambda e: None, threading.Event())
    assert result.status == "failed" and "nope.tar" in result.message
    assert "desktop.provisioning.bundle" in result.message


def test_inventory_has_the_settings_but_no_secrets(tmp_path: Path) -> None:
    driver = DeployDriver(TARGET, SETTINGS, bundle=None, workdir=tmp_path)
    inv = driver._inventory(tmp_path / "known_hosts", tmp_path / "key", {"bootstrap_bundle": None})
    text = yaml.safe_dump(inv)
    host = inv["all"]["children"]["flypacks"]["hosts"]["flypack-01"]
    assert host["ansible_host"] == "198.51.100.7" and host["flypack_mgmt_ip"] == "192.168.1.10"
    assert "StrictHostKeyChecking=yes" in host["ansible_ssh_common_args"]
    assert "s3cret-pass" not in text and "sudo-pass" not in text


def _ev(event: str, **data: object) -> dict[str, object]:
    return {"event": event, "event_data": {"host": "flypack-01", **data}}


def test_runner_events_become_deploy_events() -> None:
    got: list[DeployEvent] = []
    c = _Collector(got.append)
    assert c(_ev("playbook_on_play_start", play="Configure"))
    c(_ev("playbook_on_task_start", task="Install netplan", role="network"))
    c(_ev("runner_on_ok", task="Install netplan", res={"changed": True}))
    c(_ev("playbook_on_task_start", task="Say", role="network"))
    c(_ev("runner_on_ok", task="Say", task_action="ansible.builtin.debug",
          res={"changed": False, "msg": "not started: grafana"}))
    c(_ev("runner_on_failed", task="Apply", res={"msg": "boom"}))
    c(_ev("runner_on_failed", task="Probe", ignore_errors=True, res={"msg": "fine"}))
    c(_ev("playbook_on_stats", changed={"flypack-01": 3},
          artifact_data={"flypack_fingerprint": "AA:BB"}))
    kinds = [(e.kind, e.role, e.task) for e in got]
    assert kinds[:4] == [("play", None, None), ("role", "network", None),
                         ("task", "network", "Install netplan"),
                         ("changed", "network", "Install netplan")]
    assert any(e.kind == "ok" and "not started: grafana" in e.message for e in got)
    assert [e.task for e in got if e.kind == "failed"] == ["Apply"]
    assert c.failed_task == "Apply" and c.failed_detail == "boom"
    assert c.artifacts == {"flypack_fingerprint": "AA:BB"}


def test_a_broken_callback_does_not_break_the_deploy() -> None:
    def bad(_e: DeployEvent) -> None:
        raise RuntimeError("ui gone")
    assert _Collector(bad)(_ev("playbook_on_play_start", play="x")) is True
