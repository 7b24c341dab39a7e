"""The credential store: values kept by name, a 0600 file whatever the umask, created with
its folders, replaced atomically, a damaged file refused with its path."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from server_agent.auth.credentials import CredentialStore


def test_values_are_kept_by_name(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.json")
    assert store.get("srt-main") is None and store.names() == []
    store.set("srt-main", "pass-1")
    store.set("snmp", "community-ü")
    store.set("srt-main", "pass-2")  # replaced, the other kept
    assert store.get("srt-main") == "pass-2" and store.get("snmp") == "community-ü"
    assert store.names() == ["snmp", "srt-main"]
    # one entry per line in name order (a diff of two stores reads well), ASCII only
    assert (tmp_path / "credentials.json").read_text() == (
        '{\n "snmp": "community-\\u00fc",\n "srt-main": "pass-2"\n}')
    assert json.loads((tmp_path / "credentials.json").read_text())["snmp"] == "community-ü"


def test_the_file_is_0600_whatever_the_umask_and_its_folders_are_made(tmp_path: Path) -> None:
    path = tmp_path / "state" / "auth" / "credentials.json"
    old = os.umask(0)
    try:
        CredentialStore(path).set("k", "v")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temp left


def test_get_or_create_makes_one_secret_and_keeps_it(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "c.json")
    first = store.get_or_create("scrape-token")
    assert len(first) == 43  # 32 random bytes, base64url without padding
    assert store.get_or_create("scrape-token") == first
    assert len(store.get_or_create("short", nbytes=8)) == 11


def test_a_file_that_is_not_an_object_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=f"^{path}: credential store is not a JSON object$"):
        CredentialStore(path).get("x")
