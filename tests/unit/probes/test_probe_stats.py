from __future__ import annotations

import pytest

from server_agent.probes.base import ProbeSpec
from server_agent.probes.stats import ProbeStats


def test_loss_ratio_over_the_window() -> None:
    st = ProbeStats(window=4)
    assert st.loss_ratio is None and st.up is None
    for rtt in (0.001, None, 0.001, None):
        st.add(rtt)
    assert st.loss_ratio == 0.5
    st.add(0.001)  # evicts the first (answered) one
    assert st.loss_ratio == 0.5
    st.add(0.001)  # evicts a lost one
    assert st.loss_ratio == 0.25
    assert (st.sent, st.lost) == (6, 2)
    st.add(None)
    st.add(None)
    assert st.consecutive_lost == 2 and st.up is False and st.rtt is None


def test_jitter_is_rfc3550_smoothed() -> None:
    st = ProbeStats(window=10)
    st.add(0.010)
    assert st.jitter is None  # needs two answers
    st.add(0.026)
    assert st.jitter == pytest.approx(0.016 / 16)
    st.add(None)  # a lost probe does not enter D
    st.add(0.026)
    assert st.jitter == pytest.approx(0.001 - 0.001 / 16)


def test_probe_spec() -> None:
    assert ProbeSpec.parse("icmp") == ProbeSpec("icmp")
    assert ProbeSpec.parse("udp:7") == ProbeSpec("udp", 7)
    assert str(ProbeSpec.parse("tcp:443")) == "tcp:443"
    for bad in ("icmp:1", "tcp", "tcp:0", "udp:70000", "sctp:1"):
        with pytest.raises(ValueError):
            ProbeSpec.parse(bad)
