"""Client variables are data, never templates (design §9).

:func:`check_data_only` refuses ``ansible_*`` (and the agent's own ``flypack_*``) names and any
string containing a Jinja2 marker (``{{``, ``{%``, ``{#``), at any depth. :func:`dump_unsafe`
writes the variables as YAML with every string tagged ``!unsafe``, so that even a value that
slipped through is never templated by Ansible.
"""

from __future__ import annotations

from typing import Any

import yaml

from server_agent.jobs.errors import InvalidVars

MARKERS = ("{{", "{%", "{#")
MAX_DEPTH = 8


def check_data_only(values: dict[str, Any]) -> None:
    _check(values, "vars", 0)


def _check(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidVars(f"{where}: nested too deeply (at most {MAX_DEPTH} levels)")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidVars(f"{where}: keys must be strings")
            if depth == 0 and k.lower().startswith(("ansible_", "flypack_")):
                raise InvalidVars(f"{where}.{k}: names starting with ansible_ or flypack_ are "
                                  "reserved; a job may not set them")
            if any(m in k for m in MARKERS):
                raise InvalidVars(f"{where}: the key {k!r} contains a template marker")
            _check(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check(v, f"{where}[{i}]", depth + 1)
    elif isinstance(value, str):
        found = [m for m in MARKERS if m in value]
        if found:
            raise InvalidVars(f"{where}: contains {found[0]!r}; variables are data, never "
                              "templates: send the plain value without Jinja2 markers")
    elif value is not None and not isinstance(value, bool | int | float):
        raise InvalidVars(f"{where}: unsupported type {type(value).__name__}")


class _Unsafe(str):
    __slots__ = ()


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, data: _Unsafe) -> yaml.Node:
    return dumper.represent_scalar("!unsafe", str(data))


_Dumper.add_representer(_Unsafe, _represent_unsafe)


def _tag(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _tag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, str):
        return _Unsafe(value)
    return value


def dump_unsafe(values: dict[str, Any]) -> str:
    """YAML for ``-e @file`` with every string value tagged ``!unsafe``."""
    text: str = yaml.dump(_tag(values), Dumper=_Dumper, default_flow_style=False,
                          sort_keys=True)
    return text
