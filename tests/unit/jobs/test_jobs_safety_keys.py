"""Template markers in variable names (keys), at any depth, are refused like those in values;
and `dump_unsafe` tags every string, nested ones too."""

from __future__ import annotations

import pytest

from server_agent.jobs.errors import InvalidVars
from server_agent.jobs.safety import check_data_only, dump_unsafe


@pytest.mark.parametrize("values", [
    {"{{ lookup('pipe', 'id') }}": 1},
    {"a{%b": 1},
    {"x{#": 1},
    {"outer": {"{{ 7*7 }}": "plain"}},
    {"outer": [{"ok": 1}, {"{% raw %}": 2}]},
])
def test_keys_with_template_markers_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(InvalidVars, match="template marker"):
        check_data_only(values)


@pytest.mark.parametrize("values", [
    {"ansible_become": True},
    {"ANSIBLE_connection": "local"},
    {"flypack_scrape_token": "x"},
])
def test_reserved_names_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(InvalidVars, match="reserved"):
        check_data_only(values)


def test_reserved_prefixes_below_the_top_level_are_plain_data() -> None:
    check_data_only({"devices": {"ansible_like_name": "x"}})  # not a top-level Ansible var


def test_every_string_is_unsafe_at_any_depth() -> None:
    text = dump_unsafe({"a": "x", "b": ["y", {"c": "z"}], "n": 3, "t": True})
    assert text.count("!unsafe") == 3  # x, y and z; the number and the flag stay plain
    assert "n: 3" in text and "t: true" in text


def test_the_vars_file_is_block_yaml_in_key_order() -> None:
    """The extra-vars file a job keeps (and an operator reads in its folder): one value per
    line, keys sorted whatever order the request used, so two jobs' files compare line by
    line."""
    assert dump_unsafe({"zone": "b", "a": ["y", {"c": "z"}], "n": 3}) == (
        "a:\n"
        "- !unsafe 'y'\n"
        "- c: !unsafe 'z'\n"
        "n: 3\n"
        "zone: !unsafe 'b'\n")
