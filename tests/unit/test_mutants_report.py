"""scripts/mutants.py: the verdicts it reads from mutmut's files, the score it computes, the
equivalents it takes from docs/testing.md, and its exit status."""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutants_script", ROOT / "scripts/mutants.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


mutants = _load()
JWT = "server_agent.auth.jwt_hs256"


def _run_dir(tmp_path: Path, codes: dict[str, int | None]) -> Path:
    d = tmp_path / "mutants" / "server_agent" / "auth"
    d.mkdir(parents=True)
    (d / "jwt_hs256.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    return tmp_path / "mutants"


def test_score_counts_timeouts_as_caught_and_leaves_equivalents_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    codes: dict[str, int | None] = {f"{JWT}.x_decode__mutmut_{i}": 1 for i in range(1, 16)}
    codes.update({f"{JWT}.x_decode__mutmut_16": -24,  # timed out
                  f"{JWT}.x_decode__mutmut_17": 0,  # survived
                  f"{JWT}.x_decode__mutmut_18": 0})  # survived, listed as equivalent
    monkeypatch.setattr(mutants, "MUTANTS", _run_dir(tmp_path, codes))
    known = {f"{JWT}.x_decode__mutmut_18": "same behaviour"}
    by_module = mutants.tally([], known)
    t = by_module[JWT]
    assert (t.counts["killed"], t.counts["timeout"], t.counts["survived"],
            t.counts["equivalent"]) == (15, 1, 1, 1)
    assert t.score == pytest.approx(16 / 17)
    assert mutants.report(by_module) is True  # 94 % >= 85 %
    out = capsys.readouterr().out
    assert f"{JWT}.x_decode__mutmut_17" in out and "mutmut_18" not in out


def test_below_the_target_or_unchecked_fails(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    codes: dict[str, int | None] = {f"{JWT}.x_a__mutmut_{i}": 1 for i in range(1, 9)}
    codes.update({f"{JWT}.x_a__mutmut_9": 0, f"{JWT}.x_a__mutmut_10": 0})  # 80 %
    monkeypatch.setattr(mutants, "MUTANTS", _run_dir(tmp_path, codes))
    assert mutants.report(mutants.tally([], {})) is False
    codes = {f"{JWT}.x_a__mutmut_1": 1, f"{JWT}.x_a__mutmut_2": None}  # half not run
    monkeypatch.setattr(mutants, "MUTANTS", _run_dir(tmp_path / "2", codes))
    assert mutants.report(mutants.tally([], {})) is False


def test_patterns_narrow_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    codes: dict[str, int | None] = {f"{JWT}.x_a__mutmut_1": 1, f"{JWT}.x_b__mutmut_1": 0}
    monkeypatch.setattr(mutants, "MUTANTS", _run_dir(tmp_path, codes))
    t = mutants.tally([f"{JWT}.x_a*"], {})[JWT]
    assert t.counts["killed"] == 1 and not t.survivors


def test_the_listed_equivalents_are_well_formed_and_in_mutated_modules() -> None:
    known = mutants.equivalents()
    assert known, "docs/testing.md lists no equivalent mutants (the parser found none)"
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    modules = {p.removesuffix(".py").replace("/", ".") for p in cfg["only_mutate"]}
    for name, why in known.items():
        assert mutants.module_of(name) in modules, name
        assert len(why) > 20, f"{name}: say why no test can kill it"


def test_a_mutant_no_test_reaches_counts_against_the_score_and_is_listed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    codes: dict[str, int | None] = {f"{JWT}.x_a__mutmut_{i}": 1 for i in range(1, 10)}
    codes[f"{JWT}.x_dead__mutmut_1"] = 33  # mutmut: "no tests"
    monkeypatch.setattr(mutants, "MUTANTS", _run_dir(tmp_path, codes))
    t = mutants.tally([], {})[JWT]
    assert t.counts["no tests"] == 1 and t.score == pytest.approx(0.9)
    mutants.report({JWT: t})
    assert f"{JWT}.x_dead__mutmut_1 (no tests)" in capsys.readouterr().out
