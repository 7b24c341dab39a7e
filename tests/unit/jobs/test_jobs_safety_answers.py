"""What check_data_only says for each kind of refusal (the text a job's caller reads, written
out), and where its nesting limit lies exactly: MAX_DEPTH levels pass, one more does not,
through dicts and lists alike."""

from __future__ import annotations

from typing import Any

import pytest

from server_agent.jobs.errors import InvalidVars
from server_agent.jobs.safety import MAX_DEPTH, check_data_only


def _nested(levels: int, in_list: bool = False) -> Any:
    """A value ``levels`` containers deep below the vars object."""
    value: Any = "leaf"
    for _ in range(levels):
        value = [value] if in_list else {"k": value}
    return value


@pytest.mark.parametrize("in_list", [False, True])
def test_the_nesting_limit_is_exact(in_list: bool) -> None:
    check_data_only({"top": _nested(MAX_DEPTH - 1, in_list)})  # MAX_DEPTH levels in all
    with pytest.raises(InvalidVars) as err:
        check_data_only({"top": _nested(MAX_DEPTH, in_list)})
    assert str(err.value).endswith(f": nested too deeply (at most {MAX_DEPTH} levels)")


@pytest.mark.parametrize(("values", "message"), [
    ({"a": {1: "x"}}, "vars.a: keys must be strings"),
    ({"ansible_user": "x"},
     "vars.ansible_user: names starting with ansible_ or flypack_ are reserved; a job may not "
     "set them"),
    ({"a": ["ok", "{{ x }}"]},
     "vars.a[1]: contains '{{'; variables are data, never templates: send the plain value "
     "without Jinja2 markers"),
    ({"a": {"b": object()}}, "vars.a.b: unsupported type object"),
    ({"a": b"bytes"}, "vars.a: unsupported type bytes"),
])
def test_each_refusal_says_where_and_what(values: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidVars) as err:
        check_data_only(values)
    assert str(err.value) == message


def test_plain_data_of_every_json_type_passes() -> None:
    check_data_only({"s": "text", "i": 3, "f": 0.5, "b": False, "n": None,
                     "l": [1, "two", None], "d": {"x": {"y": [True]}}})
