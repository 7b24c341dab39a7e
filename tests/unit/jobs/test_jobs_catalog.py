"""The catalog, the vars schema and the data-only rules (no ansible run)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from server_agent.jobs.catalog import load_catalog
from server_agent.jobs.errors import CatalogError, InvalidVars
from server_agent.jobs.safety import check_data_only, dump_unsafe

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_catalog_loads_with_every_playbook() -> None:
    cat = load_catalog(ROOT / "playbooks")
    names = {p.name for p in cat.infos()}
    assert names == {"connectivity-check", "config-backup", "encoder-restart",
                     "incident-snapshot", "agent-self-check"}
    for info in cat.infos():
        assert info.role.value in ("operator", "admin")
        assert info.vars_schema["additionalProperties"] is False


def test_defaults_fill_in_and_schema_errors_name_the_field() -> None:
    pb = load_catalog(ROOT / "playbooks").get("connectivity-check")
    assert pb is not None
    assert pb.prepare_vars({"count": 5})["count"] == 5
    assert pb.prepare_vars({})["ports"] == [22, 80, 8023]
    with pytest.raises(InvalidVars, match=r"vars\.count: 500 is greater than the maximum"):
        pb.prepare_vars({"count": 500})
    with pytest.raises(InvalidVars, match=r"vars\.ports\.0"):
        pb.prepare_vars({"ports": ["x"]})
    with pytest.raises(InvalidVars, match="Additional properties"):
        pb.prepare_vars({"nope": 1})


@pytest.mark.parametrize("values, msg", [
    ({"ansible_connection": "local"}, "reserved"),
    ({"ANSIBLE_become": True}, "reserved"),
    ({"flypack_backup_dir": "/"}, "reserved"),
    ({"note": "{{ lookup('pipe', 'id') }}"}, "never templates"),
    ({"note": "a {% if 1 %}"}, "never templates"),
    ({"note": "{# c #}"}, "never templates"),
    ({"paths": ["/etc/x", {"k": "{{ x }}"}]}, r"vars\.paths\[1\]\.k"),
])
def test_templates_and_reserved_names_are_refused(values: dict[str, object], msg: str) -> None:
    with pytest.raises(InvalidVars, match=msg):
        check_data_only(values)


def test_dump_tags_every_string_unsafe() -> None:
    text = dump_unsafe({"a": "x", "b": [1, "y"], "c": {"d": "z"}, "e": True})
    tags = []

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.ScalarNode):
            tags.append((node.value, node.tag))
        elif isinstance(node, yaml.SequenceNode):
            for n in node.value:
                walk(n)
        elif isinstance(node, yaml.MappingNode):
            for _, v in node.value:
                walk(v)

    root = yaml.compose(text)
    assert root is not None
    walk(root)
    assert sorted(t for v, t in tags if v in ("x", "y", "z")) == ["!unsafe"] * 3
    assert all(t != "!unsafe" for v, t in tags if v in ("1", "true"))


def _write(folder: Path, entry: dict[str, object]) -> Path:
    (folder / "p.yml").write_text("---\n- name: x\n  hosts: all\n  tasks: []\n")
    (folder / "catalog.yml").write_text(yaml.safe_dump({"playbooks": [entry]}))
    return folder


@pytest.mark.parametrize("patch, msg", [
    ({"file": "../p.yml"}, "file:"),
    ({"file": "missing.yml"}, "does not exist"),
    ({"role": "viewer"}, "at least the operator"),
    ({"targets": []}, "targets:"),
    ({"vars": {"type": "object", "properties": {"ansible_x": {"type": "string"}}}}, "reserved"),
    ({"vars": {"type": "object", "properties": {"n": {"type": "nope"}}}}, "JSON schema"),
    ({"vars": {"type": "object", "properties": {"n": {"type": "integer", "default": "x"}}}},
     "defaults do not pass"),
    ({"surprise": 1}, "unknown keys"),
])
def test_bad_catalog_entries_say_what_is_wrong(tmp_path: Path, patch: dict[str, object],
                                                msg: str) -> None:
    entry: dict[str, object] = {"name": "p", "file": "p.yml", "targets": ["encoders"]}
    entry.update(patch)
    with pytest.raises(CatalogError, match=msg):
        load_catalog(_write(tmp_path, entry))


def test_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file"):
        load_catalog(tmp_path)
