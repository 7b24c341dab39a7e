"""Classification: a YAML rules file decides role, vendor and model from a host's evidence.

    load_rules(path=None) -> RuleSet          (RulesError names file, rule and key)
    RuleSet.classify(host.facts()) -> Verdict (role, vendor, model, rule, evidence)

The first rule (in file order) whose conditions all hold wins. A condition is ``fact: value``:
for text facts (``snmp.sys_descr``, ``oui_vendor``, ``http.server`` ...) the value is a regular
expression searched in the text; for list facts (``open_ports``, ``mdns.services``) the value
(or every value of a list) must be in the list. ``model`` and ``vendor`` may use
``{group}`` placeholders filled from named groups of the rule's expressions. The shipped file
is ``server_agent/discovery/rules.yaml``; ``[discovery].rules_file`` replaces it.

What a device says of its own function outweighs the family a rule recognises: the file's
``functions`` list names words per role (``decoder``, ``encoder`` ...). When the device's own
description (:data:`FUNCTION_FACTS`) names exactly one of those functions, that is the role;
the matching rule (if any) still gives vendor, model and vars. Two different functions (an
"encoder/decoder") leave the rule's role. The verdict's first evidence line quotes the words
that decided the role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server_agent.contract import DeviceRole
from server_agent.discovery.errors import RulesError

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")
TEXT_FACTS = ("address", "mac", "oui_vendor", "snmp.sys_name", "snmp.sys_descr",
              "snmp.sys_object_id", "snmp.sys_location", "http.server", "http.title")
LIST_FACTS = ("open_ports", "mdns.services", "mdns.names")
# what a device says of itself, in its own words: the facts its function words are read from
FUNCTION_FACTS = ("snmp.sys_descr", "http.title")
_RULE_KEYS = {"name", "role", "vendor", "model", "match", "vars"}
_FUNCTION_KEYS = {"role", "words"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Rule:
    name: str
    role: DeviceRole
    vendor: str
    model: str
    text: tuple[tuple[str, re.Pattern[str]], ...]
    lists: tuple[tuple[str, tuple[Any, ...]], ...]
    vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Function:
    """Words by which a device names its own function (``functions:`` in the rules file)."""

    role: DeviceRole
    words: re.Pattern[str]


@dataclass
class Verdict:
    role: DeviceRole = DeviceRole.unknown
    vendor: str = ""
    model: str = ""
    rule: str = ""
    evidence: list[str] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)


def _fail(where: str, msg: str) -> RulesError:
    return RulesError(f"{where}: {msg}")


def _rule(raw: Any, where: str, names: set[str]) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(where, "each rule is a mapping with name, role and match")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}; use {sorted(_RULE_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(where, "'name' is required (a short text)")
    where = f"{where} ({name})"
    if name in names:
        raise _fail(where, "the name is used twice; rule names must be unique")
    names.add(name)
    try:
        role = DeviceRole(str(raw.get("role")))
    except ValueError:
        raise _fail(where, f"role {raw.get('role')!r} is not one of "
                           f"{[r.value for r in DeviceRole]}") from None
    match = raw.get("match")
    if not isinstance(match, dict) or not match:
        raise _fail(where, "'match' is required: a mapping of fact -> expression")
    text: list[tuple[str, re.Pattern[str]]] = []
    lists: list[tuple[str, tuple[Any, ...]]] = []
    groups: set[str] = set()
    for fact, value in match.items():
        if fact in TEXT_FACTS:
            if not isinstance(value, str):
                raise _fail(f"{where}: match.{fact}", "write a regular expression as a string")
            try:
                rx = re.compile(value)
            except re.error as exc:
                raise _fail(f"{where}: match.{fact}", f"bad regular expression: {exc}") from None
            groups.update(rx.groupindex)
            text.append((fact, rx))
        elif fact in LIST_FACTS:
            values = value if isinstance(value, list) else [value]
            want = int if fact == "open_ports" else str
            if not values or not all(isinstance(v, want) and not isinstance(v, bool)
                                     for v in values):
                raise _fail(f"{where}: match.{fact}", f"give a {want.__name__} or a list of them")
            lists.append((fact, tuple(values)))
        else:
            raise _fail(f"{where}: match.{fact}",
                        f"unknown fact; use one of {list(TEXT_FACTS + LIST_FACTS)}")
    vendor, model = raw.get("vendor", ""), raw.get("model", "")
    for key, val in (("vendor", vendor), ("model", model)):
        if not isinstance(val, str):
            raise _fail(f"{where}: {key}", "must be a string")
        for g in _PLACEHOLDER.findall(val):
            if g not in groups:
                raise _fail(f"{where}: {key}",
                            f"{{{g}}} names no (?P<{g}>...) group of this rule's expressions")
    hv = raw.get("vars", {})
    if not isinstance(hv, dict) or not all(
            isinstance(k, str) and re.fullmatch(r"[a-z][a-z0-9_]*", k) and isinstance(v, str)
            for k, v in hv.items()):
        raise _fail(f"{where}: vars", "a mapping of lower-case variable names to strings")
    return Rule(name, role, vendor, model, tuple(text), tuple(lists), dict(hv))


class RuleSet:
    def __init__(self, rules: list[Rule], source: str,
                 functions: list[Function] | None = None) -> None:
        self.rules = rules
        self.source = source
        self.functions = functions or []

    def classify(self, facts: dict[str, Any]) -> Verdict:
        verdict = self._family(facts)
        said = self._said(facts)
        roles = list(dict.fromkeys(role for role, _, _, _ in said))
        if len(roles) > 1:
            verdict.evidence.insert(0, "names several functions ("
                                    + ", ".join(f"{fact} says {word!r}"
                                                for _, fact, word, _ in said)
                                    + "): " + (f"the rule {verdict.rule} decides"
                                               if verdict.rule else "no role"))
            return verdict
        if not said:
            return verdict
        role, fact, word, rx = said[0]
        words = f"role {role.value}: {fact} says {word!r} (/{rx.pattern}/)"
        if not verdict.rule:
            oui = str(facts.get("oui_vendor", ""))
            return Verdict(role, oui, "", f"functions.{role.value}", [words])
        if role is not verdict.role:
            words += f", over {verdict.role.value} from the family rule {verdict.rule}"
            verdict.role = role
        verdict.evidence.insert(0, words)
        return verdict

    def _said(self, facts: dict[str, Any]) -> list[tuple[DeviceRole, str, str, re.Pattern[str]]]:
        """The functions the device names in its own words: (role, fact, words, expression)."""
        out = []
        for fn in self.functions:
            for fact in FUNCTION_FACTS:
                m = fn.words.search(str(facts.get(fact) or ""))
                if m is not None:
                    out.append((fn.role, fact, m.group(0), fn.words))
                    break
        return out

    def _family(self, facts: dict[str, Any]) -> Verdict:
        """The first rule whose conditions all hold (vendor, model, the family's role)."""
        for rule in self.rules:
            evidence: list[str] = []
            found: dict[str, str] = {}
            ok = True
            for fact, rx in rule.text:
                m = rx.search(str(facts.get(fact, "")))
                if m is None:
                    ok = False
                    break
                found.update({k: v for k, v in m.groupdict().items() if v})
                evidence.append(f"{fact} {str(facts[fact])[:80]!r} matches /{rx.pattern}/ "
                                f"on {m.group(0)[:60]!r}")
            for fact, values in rule.lists if ok else ():
                have = facts.get(fact, [])
                if not all(v in have for v in values):
                    ok = False
                    break
                evidence.append(f"{fact} contains {', '.join(map(str, values))}")
            if ok:
                vendor = _fill(rule.vendor, found) or str(facts.get("oui_vendor", ""))
                return Verdict(rule.role, vendor, _fill(rule.model, found), rule.name, evidence,
                               dict(rule.vars))
        oui = str(facts.get("oui_vendor", ""))
        return Verdict(vendor=oui, evidence=[f"no rule matched; MAC vendor {oui!r}"] if oui
                       else ["no rule matched"])


def _fill(template: str, found: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: found.get(m.group(1), ""), template).strip()


def parse_rules(text: str, source: str) -> RuleSet:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{source}: expected a mapping with a 'rules' list (see the shipped "
                         f"{DEFAULT_RULES.name})")
    extra = sorted(set(data) - {"rules", "version", "functions"})
    if extra:
        raise RulesError(f"{source}: unknown top-level key {extra[0]!r}; use 'rules' and "
                         "'functions'")
    names: set[str] = set()
    rules = [_rule(r, f"{source}: rules[{i}]", names) for i, r in enumerate(data["rules"])]
    raw_fns = data.get("functions") or []
    if not isinstance(raw_fns, list):
        raise RulesError(f"{source}: 'functions' is a list of {{role, words}}")
    seen: set[DeviceRole] = set()
    functions = [_function(f, f"{source}: functions[{i}]", seen) for i, f in enumerate(raw_fns)]
    return RuleSet(rules, source, functions)


def _function(raw: Any, where: str, seen: set[DeviceRole]) -> Function:
    if not isinstance(raw, dict) or set(raw) != _FUNCTION_KEYS:
        raise _fail(where, "each function is a mapping with exactly 'role' and 'words'")
    try:
        role = DeviceRole(str(raw["role"]))
    except ValueError:
        role = DeviceRole.unknown
    if role is DeviceRole.unknown:
        raise _fail(where, f"role {raw['role']!r} is not one of "
                           f"{[r.value for r in DeviceRole if r is not DeviceRole.unknown]}")
    if role in seen:
        raise _fail(where, f"role {role.value!r} is listed twice; put all its words in one "
                           "expression")
    seen.add(role)
    if not isinstance(raw["words"], str):
        raise _fail(f"{where}: words", "write a regular expression as a string")
    try:
        return Function(role, re.compile(raw["words"]))
    except re.error as exc:
        raise _fail(f"{where}: words", f"bad regular expression: {exc}") from None


def load_rules(path: Path | None = None) -> RuleSet:
    path = path or DEFAULT_RULES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path}: no such rules file; fix [discovery].rules_file or remove it "
                         "to use the shipped rules") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read: {exc}") from None
    return parse_rules(text, str(path))
