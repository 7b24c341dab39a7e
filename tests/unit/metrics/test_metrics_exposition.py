"""The /metrics text: parsed back by the text-format rules, not compared as a string."""

from __future__ import annotations

import math
import re

from server_agent import __version__
from server_agent.live.bus import LiveBus, Sample, Subscriber, labels_of, sample
from server_agent.metrics.catalog import MetricDef
from server_agent.metrics.exposition import Exposition, escape_label_value, format_value

CAT = {
    "flypack_agent_info": MetricDef("flypack_agent_info", "gauge", "info",
                                    "Agent version (value 1).", ("flypack", "version")),
    "flypack_live_subscribers": MetricDef("flypack_live_subscribers", "gauge", "",
                                          "Live clients.", ("flypack",)),
    "flypack_live_samples_published_total": MetricDef(
        "flypack_live_samples_published_total", "counter", "", "Samples.", ("flypack",)),
    "flypack_t_rtt_seconds": MetricDef("flypack_t_rtt_seconds", "gauge", "seconds",
                                       'RTT with a back\\slash and a\nnewline "quoted".',
                                       ("flypack", "device"), peaks=True),
    "flypack_t_sent_total": MetricDef("flypack_t_sent_total", "counter", "", "Sent.",
                                      ("flypack", "device")),
}

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def parse_labels(text: str) -> dict[str, str]:
    """Label pairs of the text format, unescaping \\\\, \\" and \\n; fails on anything else."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        m = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="').match(text, i)
        assert m, f"bad label at {text[i:]!r}"
        i = m.end()
        value = []
        while text[i] != '"':
            if text[i] == "\\":
                nxt = text[i + 1]
                assert nxt in '\\"n', f"bad escape \\{nxt}"
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            else:
                assert text[i] != "\n"
                value.append(text[i])
                i += 1
        out[m.group(1)] = "".join(value)
        i += 1
        if i < len(text):
            assert text[i] == ",", text[i:]
            i += 1
    return out


def parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, dict[str, str], float]]]:
    """(families: name -> (type, help), samples) with the rules of text format 0.0.4."""
    families: dict[str, tuple[str, str]] = {}
    helps: dict[str, str] = {}
    samples: list[tuple[str, dict[str, str], float]] = []
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, h = line[7:].partition(" ")
            assert name not in helps, f"HELP twice for {name}"
            helps[name] = h.replace("\\n", "\n").replace("\\\\", "\\")
        elif line.startswith("# TYPE "):
            name, _, t = line[7:].partition(" ")
            assert name not in families, f"TYPE twice for {name}"
            assert t in ("gauge", "counter")
            assert not any(s[0] == name for s in samples), "TYPE after samples"
            families[name] = (t, helps.get(name, ""))
        else:
            m = _LINE.match(line)
            assert m, f"not a sample line: {line!r}"
            name = m.group(1)
            assert name in families, f"{name} without TYPE"
            assert m.group(4) not in ("NaN", "+Inf", "-Inf")
            samples.append((name, parse_labels(m.group(3) or ""), float(m.group(4))))
    return families, samples


def value_of(samples: list[tuple[str, dict[str, str], float]], name: str,
             **labels: str) -> float | None:
    hits = [v for n, lab, v in samples if n == name and all(lab.get(k) == x
                                                            for k, x in labels.items())]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


def test_latest_values_types_and_own_metrics() -> None:
    bus = LiveBus()
    bus.attach(Subscriber())
    bus.publish([
        sample("flypack_t_sent_total", {"device": "enc-01"}, 5, t=100.0),
        sample("flypack_t_sent_total", {"device": "enc-01"}, 7, t=101.0),
        sample("flypack_t_rtt_seconds", {"device": "enc-01", "flypack": "fp-a"}, 0.0015, t=101.0),
    ])
    fams, samples = parse(Exposition("fp-a", bus, 5.0, CAT).render(now=102.0))
    assert fams["flypack_t_sent_total"][0] == "counter"
    assert fams["flypack_t_rtt_seconds"] == (
        "gauge", 'RTT with a back\\slash and a\nnewline "quoted".')
    assert value_of(samples, "flypack_t_sent_total", device="enc-01", flypack="fp-a") == 7
    assert value_of(samples, "flypack_t_rtt_seconds", device="enc-01") == 0.0015
    assert value_of(samples, "flypack_agent_info", version=__version__, flypack="fp-a") == 1
    assert value_of(samples, "flypack_live_subscribers") == 1
    assert value_of(samples, "flypack_live_samples_published_total") == 3


def test_unknown_none_and_nan_are_left_out_never_zero() -> None:
    bus = LiveBus()
    bus.publish([
        sample("flypack_t_rtt_seconds", {"device": "lost"}, 0.002, t=99.0),
        sample("flypack_t_rtt_seconds", {"device": "lost"}, None, t=100.0),
        Sample("flypack_t_sent_total", labels_of({"device": "nan"}), 100.0, math.nan),
        sample("flypack_not_declared", {"device": "x"}, 1.0, t=100.0),
        sample("flypack_t_sent_total", {"bad-label": "x"}, 1.0, t=100.0),
    ])
    text = Exposition("fp", bus, 5.0, CAT).render(now=100.5)
    _, samples = parse(text)
    assert value_of(samples, "flypack_t_rtt_seconds", device="lost") is None
    assert value_of(samples, "flypack_t_sent_total", device="nan") is None
    assert "flypack_not_declared" not in text
    assert "bad-label" not in text
    assert "NaN" not in text
    # the peak within the interval is still there although the latest value is unknown
    assert value_of(samples, "flypack_t_rtt_seconds_max", device="lost") == 0.002


def test_peaks_over_the_last_scrape_interval() -> None:
    values = [0.010, 0.090, 0.001, 0.020, 0.015]  # 10 Hz from t=200.0
    bus = LiveBus()
    bus.publish([sample("flypack_t_rtt_seconds", {"device": "d"}, 0.5, t=190.0)])
    bus.publish(sample("flypack_t_rtt_seconds", {"device": "d"}, v, t=200.0 + i / 10)
                for i, v in enumerate(values))
    fams, samples = parse(Exposition("fp", bus, 5.0, CAT).render(now=200.45))
    assert fams["flypack_t_rtt_seconds_max"][0] == "gauge"
    assert "Maximum over the scrape interval" in fams["flypack_t_rtt_seconds_max"][1]
    assert value_of(samples, "flypack_t_rtt_seconds_max", device="d") == 0.090
    assert value_of(samples, "flypack_t_rtt_seconds_min", device="d") == 0.001  # 0.5 is older
    assert value_of(samples, "flypack_t_rtt_seconds", device="d") == 0.015
    # no peaks for counters, and none for a window without samples
    _, later = parse(Exposition("fp", bus, 5.0, CAT).render(now=300.0))
    assert value_of(later, "flypack_t_rtt_seconds_max", device="d") is None
    assert not any(n.startswith("flypack_t_sent_total_") for n, _, _ in later)


def test_label_values_are_escaped() -> None:
    nasty = 'a\\b"c\nd} x="y'
    bus = LiveBus()
    bus.publish([sample("flypack_t_sent_total", {"device": nasty}, 1, t=1.0)])
    text = Exposition("fp", bus, 5.0, CAT).render(now=2.0)
    _, samples = parse(text)
    assert value_of(samples, "flypack_t_sent_total", device=nasty) == 1
    assert escape_label_value(nasty) == 'a\\\\b\\"c\\nd} x=\\"y'


def test_format_value() -> None:
    assert format_value(7.0) == "7"
    assert format_value(0.0015) == "0.0015"
    assert format_value(1e-9) == "1e-09"
    assert format_value(-3.0) == "-3"
    assert float(format_value(1e20)) == 1e20


def test_each_family_once_with_many_series() -> None:
    bus = LiveBus()
    bus.publish(sample("flypack_t_sent_total", {"device": f"d{i}"}, i, t=1.0) for i in range(50))
    _, samples = parse(Exposition("fp", bus, 5.0, CAT).render(now=2.0))
    assert len([s for s in samples if s[0] == "flypack_t_sent_total"]) == 50
