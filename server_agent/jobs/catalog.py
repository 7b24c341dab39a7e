"""The playbook catalog: ``catalog.yml`` lists every playbook the agent may run.

Each entry names a playbook file inside the catalog's folder, its least role, the inventory
groups it may target, a time limit and its variables as a JSON schema (draft 2020-12). The
client only ever names an entry; it never sends a path.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from server_agent.contract import PlaybookInfo, Role
from server_agent.jobs.errors import CatalogError, InvalidVars
from server_agent.jobs.safety import check_data_only

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.ya?ml$")
_KEYS = {"name", "title", "description", "file", "role", "targets", "timeout_s",
         "changes_devices", "vars"}


@dataclass(frozen=True)
class Playbook:
    info: PlaybookInfo
    path: Path
    validator: Draft202012Validator

    @property
    def name(self) -> str:
        return self.info.name

    def prepare_vars(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults filled in, schema checked, data-only rules applied; raises InvalidVars."""
        check_data_only(given)
        values = copy.deepcopy(given)
        for key, prop in self.info.vars_schema.get("properties", {}).items():
            if key not in values and isinstance(prop, dict) and "default" in prop:
                values[key] = copy.deepcopy(prop["default"])
        errors = sorted(self.validator.iter_errors(values), key=lambda e: list(e.path))
        if errors:
            err = errors[0]
            where = ".".join(str(p) for p in err.path)
            field = f"vars.{where}" if where else "vars"
            raise InvalidVars(f"{field}: {err.message}")
        return values


class Catalog:
    def __init__(self, folder: Path, playbooks: dict[str, Playbook]) -> None:
        self.folder = folder
        self.playbooks = playbooks

    def get(self, name: str) -> Playbook | None:
        return self.playbooks.get(name)

    def infos(self) -> list[PlaybookInfo]:
        return [p.info for p in self.playbooks.values()]


def _fail(where: str, msg: str) -> CatalogError:
    return CatalogError(f"{where}: {msg}")


def _entry(folder: Path, i: int, raw: object) -> Playbook:
    where = f"{folder / 'catalog.yml'}: playbooks[{i}]"
    if not isinstance(raw, dict):
        raise _fail(where, "each entry must be a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(where, "name: use lower-case letters, digits and '-'")
    where = f"{folder / 'catalog.yml'}: {name}"
    file = raw.get("file")
    if not isinstance(file, str) or not _FILE.match(file):
        raise _fail(where, "file: a playbook file name in the catalog's folder (no path)")
    path = folder / file
    if not path.is_file():
        raise _fail(where, f"file: {path} does not exist")
    try:
        role = Role(raw.get("role", "operator"))
    except ValueError:
        raise _fail(where, "role: operator or admin") from None
    if role is Role.viewer:
        raise _fail(where, "role: playbooks need at least the operator role")
    schema = raw.get("vars", {"type": "object", "properties": {}})
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise _fail(where, "vars: a JSON schema of type object")
    schema.setdefault("additionalProperties", False)
    schema.setdefault("properties", {})
    if schema["additionalProperties"] is not False:
        raise _fail(where, "vars: additionalProperties must be false (declare every variable)")
    for key in schema["properties"]:
        if key.startswith(("ansible_", "flypack_")) or not re.match(r"^[a-z][a-z0-9_]*$", key):
            raise _fail(where, f"vars: {key!r}: names are lower-case identifiers, not "
                        "ansible_* or flypack_* (reserved)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise _fail(where, f"vars: not a valid JSON schema: {exc.message}") from None
    targets = raw.get("targets")
    if not isinstance(targets, list) or not targets or not all(
            isinstance(t, str) and _NAME.match(t) for t in targets):
        raise _fail(where, "targets: a non-empty list of inventory group names")
    timeout = raw.get("timeout_s", 300)
    if not isinstance(timeout, int | float) or not 1 <= timeout <= 86400:
        raise _fail(where, "timeout_s: seconds between 1 and 86400")
    info = PlaybookInfo(
        name=name, title=str(raw.get("title", name)), description=str(raw.get("description", "")),
        role=role, vars_schema=schema, targets=list(targets), timeout_s=float(timeout),
        changes_devices=bool(raw.get("changes_devices", False)))
    pb = Playbook(info, path, Draft202012Validator(schema))
    try:  # the schema's own defaults must pass it
        pb.prepare_vars({})
    except InvalidVars as exc:
        raise _fail(where, f"defaults do not pass the schema: {exc}") from None
    return pb


def load_catalog(folder: Path) -> Catalog:
    path = folder / "catalog.yml"
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such file; set [jobs] playbooks_dir") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("playbooks"), list):
        raise CatalogError(f"{path}: expected a mapping with a 'playbooks' list")
    out: dict[str, Playbook] = {}
    for i, raw in enumerate(data["playbooks"]):
        pb = _entry(folder, i, raw)
        if pb.name in out:
            raise CatalogError(f"{path}: playbook {pb.name!r} is listed twice")
        out[pb.name] = pb
    return Catalog(folder, out)
