"""Name / role / notes overrides of configured devices: stored, kept across a restart,
refused clearly when the name is taken; through the API as an operator."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.config import DeviceSection
from server_agent.contract import DeviceRole, Role
from server_agent.discovery.errors import NameTakenError, OverrideError
from server_agent.discovery.overrides import DeviceOverrides
from server_agent.discovery.registry import DeviceRegistry
from server_agent.jobs.inventory import build_inventory
from server_agent.runtime import build_services
from server_agent.store.db import Database
from tests.support import PASSWORDS
from tests.unit.conftest import make_config

DEVICES = [DeviceSection(name="enc-01", address="127.0.0.1", role=DeviceRole.encoder),
           DeviceSection(name="rtr-01", address="127.0.0.2", role=DeviceRole.router)]


def test_overrides_apply_persist_and_clear(tmp_path: Path) -> None:
    db = Database(tmp_path / "a.db")
    reg = DeviceRegistry(DEVICES, DeviceOverrides(db))
    dev = reg.set_overrides("enc-01", {"name": "cam-left", "role": "decoder",
                                       "notes": "rack 2, port 7"})
    assert (dev.id, dev.name, dev.role, dev.notes, dev.overrides) == (
        "enc-01", "cam-left", DeviceRole.decoder, "rack 2, port 7", ["name", "role", "notes"])
    assert dev.address == "127.0.0.1"  # configured fields stay

    again = DeviceRegistry(DEVICES, DeviceOverrides(db))  # an agent restart
    assert again.get("enc-01").name == "cam-left"  # type: ignore[union-attr]
    dev = again.set_overrides("enc-01", {"name": None, "notes": ""})  # remove two
    assert (dev.name, dev.role, dev.notes, dev.overrides) == (
        "enc-01", DeviceRole.decoder, "", ["role"])
    dev = again.set_overrides("enc-01", {"role": None})
    assert (dev.role, dev.overrides) == (DeviceRole.encoder, [])
    assert db.one("SELECT COUNT(*) FROM device_overrides")[0] == 0  # type: ignore[index]


def test_a_role_override_moves_the_device_to_its_ansible_group(tmp_path: Path) -> None:
    reg = DeviceRegistry(DEVICES, DeviceOverrides(Database(tmp_path / "a.db")))
    groups = build_inventory(reg.targets(), None, 8080).groups
    assert "enc-01" in groups["encoders"] and "enc-01" not in groups.get("decoders", set())
    reg.set_overrides("enc-01", {"name": "cam-left", "role": "decoder"})
    groups = build_inventory(reg.targets(), None, 8080).groups
    assert "enc-01" in groups["decoders"]  # by its id: the name is a label
    assert "enc-01" not in groups.get("encoders", set())
    reg.set_overrides("enc-01", {"role": None})
    assert "enc-01" in build_inventory(reg.targets(), None, 8080).groups["encoders"]


def test_refusals(tmp_path: Path) -> None:
    reg = DeviceRegistry(DEVICES, DeviceOverrides(Database(tmp_path / "a.db")))
    with pytest.raises(NameTakenError, match="'rtr-01' is taken by device 'rtr-01'"):
        reg.set_overrides("enc-01", {"name": "rtr-01"})
    reg.set_overrides("rtr-01", {"name": "core"})
    with pytest.raises(NameTakenError, match="'core' is taken"):
        reg.set_overrides("enc-01", {"name": "core"})
    assert reg.set_overrides("enc-01", {"name": "enc-01"}).name == "enc-01"  # its own id
    with pytest.raises(OverrideError, match="no configured or simulated device 'x'"):
        reg.set_overrides("x", {"notes": "n"})
    with pytest.raises(OverrideError, match="no database"):
        DeviceRegistry(DEVICES).set_overrides("enc-01", {"notes": "n"})


def test_patch_a_configured_device_through_the_api(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, devices=[{"name": "enc-01", "address": "127.0.0.1",
                                          "probes": ["tcp:9"]},
                                         {"name": "rtr-01", "address": "127.0.0.2",
                                          "probes": ["tcp:9"]}])
    svc = build_services(cfg)
    for role, pw in PASSWORDS.items():
        svc.auth.add_user(role, Role(role), pw)
    with TestClient(create_app(svc, run_background=False)) as c:
        tok = {r: c.post("/api/v1/auth/login", json={"username": r, "password": pw})
               .json()["access_token"] for r, pw in PASSWORDS.items()}
        op = {"Authorization": f"Bearer {tok['operator']}"}
        viewer = {"Authorization": f"Bearer {tok['viewer']}"}
        body = {"name": "cam-left", "role": "decoder", "notes": "rack 2"}
        assert c.patch("/api/v1/devices/enc-01", json=body, headers=viewer).status_code == 403
        r = c.patch("/api/v1/devices/enc-01", json=body, headers=op)
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["role"], r.json()["notes"]) == (
            "cam-left", "decoder", "rack 2")
        got = c.get("/api/v1/devices/enc-01", headers=viewer).json()
        assert got["overrides"] == ["name", "role", "notes"]
        r = c.patch("/api/v1/devices/rtr-01", json={"name": "cam-left"}, headers=op)
        assert r.status_code == 409 and "taken by device 'enc-01'" in r.json()["detail"]
        assert c.patch("/api/v1/devices/enc-01", json={"role": "wizard"},
                       headers=op).status_code == 422
        assert c.patch("/api/v1/devices/nope", json={"notes": "x"},
                       headers=op).status_code == 404
