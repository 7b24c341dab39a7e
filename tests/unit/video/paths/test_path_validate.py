"""Path definitions: checked in the config file (structure) and the API (also devices)."""

from __future__ import annotations

import pytest

from server_agent.config import ConfigError, parse_config
from server_agent.contract import PathHop
from server_agent.video.paths import PathError, validate_path


def hops(*spec: tuple[str, str, str | None, int | None]) -> list[PathHop]:
    return [PathHop(name=n, kind=k, device=d, leg=leg)  # type: ignore[arg-type]
            for n, k, d, leg in spec]


def test_a_good_path_passes() -> None:
    validate_path(hops(("enc", "device", "enc-01", None), ("wan", "link", None, 2),
                       ("agent", "analysis", None, 1)), legs=2,
                  known=lambda ref: ref == "enc-01")


@pytest.mark.parametrize("path, legs, match", [
    (hops(("a", "device", "x", None), ("a", "link", None, 1)), 1,
     r"path\[1\] \('a'\): the hop name is used twice"),
    (hops(("enc", "device", None, None)), 1, r"path\[0\] \('enc'\): a device hop needs"),
    (hops(("wan", "link", None, 2)), 1, r"leg 2 does not exist; the stream has 1 leg$"),
])
def test_structure_errors_name_the_hop(path: list[PathHop], legs: int, match: str) -> None:
    with pytest.raises(PathError, match=match):
        validate_path(path, legs)


def test_unknown_device_is_named_with_a_hint() -> None:
    with pytest.raises(PathError) as exc:
        validate_path(hops(("sw", "device", "sw-09", None)), 1, known=lambda ref: False,
                      names=lambda: ["sw-02", "sw-01"])
    msg = str(exc.value)
    assert "device 'sw-09' is not in the inventory" in msg
    assert "known devices include sw-01, sw-02" in msg


def test_config_file_checks_the_structure() -> None:
    with pytest.raises(ConfigError, match=r"t\.toml: streams\[0\]: path\[1\] \('wan'\): leg 2"):
        parse_config({"streams": [{"id": "s", "legs": ["udp://@:5000"], "path": [
            {"name": "enc", "kind": "device", "device": "enc-01"},
            {"name": "wan", "kind": "link", "leg": 2}]}]}, "t.toml")
    with pytest.raises(ConfigError, match=r"streams\[0\]\.path\[0\]\.colour: unknown key"):
        parse_config({"streams": [{"id": "s", "legs": ["udp://@:5000"], "path": [
            {"name": "enc", "kind": "device", "device": "e", "colour": 1}]}]}, "t.toml")
    cfg = parse_config({"streams": [{"id": "s", "legs": ["udp://@:5000"], "path": [
        {"name": "enc", "kind": "device", "device": "not-yet-discovered"}]}]}, "t.toml")
    assert cfg.streams[0].path[0].device == "not-yet-discovered"  # judged when it runs


def test_the_example_config_has_a_stream_with_a_path() -> None:
    from pathlib import Path

    from server_agent.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[4] / "docs" / "agent.example.toml")
    st = next(s for s in cfg.streams if s.path)
    assert [(h.kind, h.device) for h in st.path] == [
        ("device", "enc-01"), ("device", "core-sw-01"), ("link", None), ("analysis", None)]
    assert {d.name for d in cfg.devices} >= {h.device for h in st.path if h.device}
