"""A playbook's variable schema (JSON schema subset) as form fields, and validation (no Qt).

    fields = form_fields(playbook.schema)   # FieldSpec(kind="choice"|"toggle"|"stepper"|...)
    values, errors = validate(fields, raw)  # errors: {name: "why"}; nothing sent while any

Kinds map to touch widgets: enum -> choice (picker), boolean -> toggle, integer/number ->
stepper (with min/max/step), array of enum -> multi (checkable list), string -> text (only
where no choice exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FieldSpec", "form_fields", "validate"]


@dataclass
class FieldSpec:
    name: str
    kind: str  # choice | toggle | stepper | decimal | multi | list | text
    title: str
    required: bool = False
    default: Any = None
    choices: list[Any] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    step: float = 1.0
    pattern: str | None = None
    max_length: int | None = None
    help: str = ""
    item_type: str = "string"  # for kind "list": the items' JSON type


def form_fields(schema: Mapping[str, Any]) -> list[FieldSpec]:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out = []
    for name, p in props.items():
        if not isinstance(p, dict):
            continue
        typ = p.get("type", "string")
        kind = "text"
        choices: list[Any] = []
        if "enum" in p:
            kind, choices = "choice", list(p["enum"])
        elif typ == "boolean":
            kind = "toggle"
        elif typ == "integer":
            kind = "stepper"
        elif typ == "number":
            kind = "decimal"
        elif typ == "array" and isinstance(p.get("items"), dict) and "enum" in p["items"]:
            kind, choices = "multi", list(p["items"]["enum"])
        elif typ == "array":
            kind = "list"
        out.append(FieldSpec(
            name=name, kind=kind, title=str(p.get("title") or name.replace("_", " ")),
            required=name in required, default=p.get("default"), choices=choices,
            minimum=p.get("minimum"), maximum=p.get("maximum"),
            step=float(p.get("multipleOf") or 1.0), pattern=p.get("pattern"),
            max_length=p.get("maxLength"), help=str(p.get("description", "")),
            item_type=str((p.get("items") or {}).get("type", "string"))
            if isinstance(p.get("items"), dict) else "string"))
    return out


def validate(fields: list[FieldSpec], raw: Mapping[str, Any]
             ) -> tuple[dict[str, Any], dict[str, str]]:
    import re

    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        v = raw.get(f.name)
        if v in (None, "", []):
            if f.required:
                errors[f.name] = "required"
            continue
        if f.kind == "list":
            v, why = _parse_list(v, f.item_type)
            if why:
                errors[f.name] = why
        elif f.kind == "choice" and v not in f.choices:
            errors[f.name] = f"pick one of {', '.join(map(str, f.choices))}"
        elif f.kind in ("stepper", "decimal"):
            if f.minimum is not None and v < f.minimum:
                errors[f.name] = f"at least {f.minimum:g}"
            elif f.maximum is not None and v > f.maximum:
                errors[f.name] = f"at most {f.maximum:g}"
        elif f.kind == "text":
            text = str(v)
            if any(m in text for m in ("{{", "{%", "{#")):
                errors[f.name] = "template markers ({{ {% {#) are not allowed"
            elif f.max_length is not None and len(text) > f.max_length:
                errors[f.name] = f"at most {f.max_length} characters"
            elif f.pattern and not re.fullmatch(f.pattern, text):
                errors[f.name] = f"must match {f.pattern}"
        if f.name not in errors:
            values[f.name] = v
    return values, errors


def _parse_list(v: Any, item_type: str) -> tuple[list[Any], str]:
    """'22, 80, 8023' -> [22, 80, 8023] (a list stays a list)."""
    parts = v if isinstance(v, list) else [x.strip() for x in str(v).split(",") if x.strip()]
    out: list[Any] = []
    for x in parts:
        if item_type == "integer":
            try:
                out.append(int(x))
            except (TypeError, ValueError):
                return [], f"{x!r} is not a whole number (separate items with commas)"
        elif item_type == "number":
            try:
                out.append(float(x))
            except (TypeError, ValueError):
                return [], f"{x!r} is not a number (separate items with commas)"
        else:
            if any(m in str(x) for m in ("{{", "{%", "{#")):
                return [], "template markers ({{ {% {#) are not allowed"
            out.append(str(x))
    return out, ""
