"""The history selector: catalog names and labels only, literal values, escaped (design §8)."""

from __future__ import annotations

import re

import pytest

from server_agent.metrics.catalog import MetricDef
from server_agent.metrics.promql import (
    MAX_POINTS,
    HistoryRequestError,
    build_query,
    check_match,
    check_range,
    escape_value,
    parse_match,
    resolve_series,
    selector,
)

CAT = {
    "flypack_t_rtt_seconds": MetricDef("flypack_t_rtt_seconds", "gauge", "seconds", "RTT.",
                                       ("flypack", "device", "probe"), peaks=True),
    "flypack_t_sent_total": MetricDef("flypack_t_sent_total", "counter", "", "Sent.",
                                      ("flypack", "device")),
}


def parse_selector(q: str) -> tuple[str, dict[str, str]]:
    """A strict reader of ``name{l="v",...}`` with PromQL (Go) string escapes; the whole query
    must be consumed, so anything a value smuggled in would show up as a parse failure."""
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", q)
    assert m, q
    i, labels = m.end(), {}
    while q[i] != "}":
        lm = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="').match(q, i)
        assert lm, q[i:]
        i, value = lm.end(), []
        while q[i] != '"':
            if q[i] == "\\":
                assert q[i + 1] in '\\"', q[i:]
                value.append(q[i + 1])
                i += 2
            else:
                value.append(q[i])
                i += 1
        labels[lm.group(1)] = "".join(value)
        i += 1
        if q[i] == ",":
            i += 1
    assert i == len(q) - 1, f"trailing text after the selector: {q[i:]!r}"
    return m.group(1), labels


@pytest.mark.parametrize("value", [
    'x"}or vector(1)',
    'x"} or on() vector(1) #',
    "x\\",
    'x\\"}',
    "enc-01",
    "a,b=c",
    "{}[]()",
    "ünïcode",
])
def test_injection_attempts_stay_label_values(value: str) -> None:
    match = parse_match([f"device={value}"])
    assert match == {"device": value}
    ref = resolve_series("flypack_t_rtt_seconds", CAT)
    check_match(ref, match)
    q = build_query(ref, {**match, "flypack": "fp"}, 5.0, 5.0)
    assert parse_selector(q) == ("flypack_t_rtt_seconds", {"device": value, "flypack": "fp"})


def test_escape_and_selector() -> None:
    assert escape_value('a\\b"c') == 'a\\\\b\\"c'
    assert selector("flypack_t_sent_total", {"flypack": "f", "device": "d"}) == \
        'flypack_t_sent_total{device="d",flypack="f"}'
    assert selector("flypack_t_sent_total", {}) == "flypack_t_sent_total{}"
    with pytest.raises(HistoryRequestError):
        selector("x or vector(1)", {})
    with pytest.raises(HistoryRequestError):
        selector("flypack_t_sent_total", {'device="x"} or vector(1) #': "v"})


def test_control_characters_and_long_values_are_refused() -> None:
    ref = resolve_series("flypack_t_sent_total", CAT)
    for bad in ("a\nb", "a\x00", "a\rb", "a\x7f", "x" * 300):
        with pytest.raises(HistoryRequestError):
            check_match(ref, {"device": bad})


def test_series_and_labels_come_from_the_catalog() -> None:
    assert resolve_series("flypack_t_rtt_seconds_max", CAT).variant == "max"
    assert resolve_series("flypack_t_rtt_seconds_min", CAT).metric.name == "flypack_t_rtt_seconds"
    for bad in ("flypack_t_sent_total_max", "up", "flypack_unknown", "flypack_t_rtt_seconds_avg",
                "sum(flypack_t_sent_total)"):
        with pytest.raises(HistoryRequestError, match=r"docs/metrics\.md"):
            resolve_series(bad, CAT)
    ref = resolve_series("flypack_t_sent_total", CAT)
    with pytest.raises(HistoryRequestError, match="its labels are flypack, device"):
        check_match(ref, {"probe": "icmp"})
    with pytest.raises(HistoryRequestError, match="__name__"):
        check_match(ref, {"__name__": "x"})


def test_parse_match() -> None:
    assert parse_match(["device=a=b", "probe="]) == {"device": "a=b", "probe": ""}
    for bad in (["device"], ["=x"], ["device=a", "device=b"]):
        with pytest.raises(HistoryRequestError):
            parse_match(bad)


def test_peaks_use_over_time_with_at_least_one_scrape_interval() -> None:
    ref = resolve_series("flypack_t_rtt_seconds_max", CAT)
    assert build_query(ref, {"device": "d"}, 60.0, 5.0) == \
        'max_over_time(flypack_t_rtt_seconds_max{device="d"}[60000ms])'
    ref = resolve_series("flypack_t_rtt_seconds_min", CAT)
    assert build_query(ref, {}, 1.0, 5.0) == \
        "min_over_time(flypack_t_rtt_seconds_min{}[5000ms])"


def test_range_limits() -> None:
    check_range(0.0, 1100.0, 0.1)
    check_range(0.0, 31 * 86400.0, 300.0)
    cases = [
        (10.0, 10.0, 1.0, "before"),
        (20.0, 10.0, 1.0, "before"),
        (0.0, 32 * 86400.0, 3600.0, "31 days"),
        (0.0, 10.0, 0.05, "at least 0.1"),
        (0.0, MAX_POINTS + 1.0, 1.0, "too many"),
        (0.0, float("nan"), 1.0, "finite"),
        (0.0, float("inf"), 1.0, "finite"),
    ]
    for start, end, step, msg in cases:
        with pytest.raises(HistoryRequestError, match=msg):
            check_range(start, end, step)
