from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from server_agent.config import AgentConfig, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def test_example_file_loads() -> None:
    cfg = load_config(ROOT / "docs" / "agent.example.toml")
    assert cfg.agent.tls and cfg.devices[0].name == "enc-01"


def _sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r"^## \[+([a-z_]+)\]+\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_key_is_documented_in_its_section() -> None:
    sections = _sections()
    for name, field in AgentConfig.model_fields.items():
        assert name in sections, f"docs/configuration.md has no '## [{name}]' section"
        ann = field.annotation
        lists = ("devices", "networks", "streams")
        model = getattr(ann, "__args__", (ann,))[0] if name in lists else ann
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key in model.model_fields:
            assert f"`{key}`" in sections[name], f"[{name}] {key} is not documented"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "agent.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, expected", [
    ("[agent]\nprot = 1\n", "agent.prot: unknown key"),
    ("[agent]\nport = 70000\n", "agent.port: Input should be less than or equal to 65535"),
    ("[agent]\nlisten = '0.0.0.0'\n", "plain HTTP is only allowed on loopback"),
    ("[agent]\ntls_cert = 'a.pem'\n", "tls_cert and tls_key go together"),
    ("[[devices]]\nname = 'a'\naddress = '10.0.0.300'\n", "devices[0].address: not an IP"),
    ("[[devices]]\nname = 'a'\n", "devices[0].address: required key is missing"),
    ("[[devices]]\nname='a'\naddress='127.0.0.2'\nprobes=['ping']\n", "unknown probe 'ping'"),
    ("[[devices]]\nname='a'\naddress='127.0.0.2'\n[[devices]]\nname='a'\naddress='127.0.0.3'\n",
     "used twice"),
    ("[[networks]]\nname='m'\ncidr='10.0.0.1/16'\n", "networks[0].cidr"),
    ("[agent\n", "not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert str(p) in str(exc.value)
    assert expected in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "[agent]\nstate_dir = 'st'\n")
    assert load_config(p).agent.state_dir == tmp_path / "st"
