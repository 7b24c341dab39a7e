"""An SRT leg's 10 Hz samples (metric_defs) and its alarm conditions for the stream's rules.

Rules: ``srt_disconnected`` (the leg's SRT connection is down, after a grace period for a
fresh leg) and ``srt_dropped`` (packets dropped too late to play in the last second).
"""

from __future__ import annotations

from server_agent.contract import Severity, SrtLegStats
from server_agent.live.bus import Sample, sample
from server_agent.video.srt import metric_defs as m
from server_agent.video.srt.leg import SrtLeg

RULES = {"srt_disconnected": Severity.critical, "srt_dropped": Severity.major}
GRACE_S = 2.0  # a fresh leg is not "disconnected" before this


def leg_labels(i: int, n: int) -> str:
    """Label of figure ``n`` of leg ``i`` (0-based): "1", and "1.out" for a relay's output."""
    return str(i + 1) if n == 0 else f"{i + 1}.out"


def _s(v: float | None, scale: float = 1.0) -> float | None:
    return None if v is None else v * scale


def samples_of(st: SrtLegStats, labels: dict[str, str], now: float) -> list[Sample]:
    ll = {**labels, "mode": st.mode}
    return [
        sample(m.CONNECTED.name, ll, float(st.state == "connected"), now),
        sample(m.RTT.name, ll, _s(st.rtt_ms, 1e-3), now),
        sample(m.BANDWIDTH.name, ll, st.bandwidth_bps, now),
        sample(m.RECEIVE_RATE.name, ll, st.receive_rate_bps, now),
        sample(m.SEND_RATE.name, ll, st.send_rate_bps, now),
        sample(m.RECEIVED.name, ll, float(st.packets_received), now),
        sample(m.LOST.name, ll, float(st.packets_lost), now),
        sample(m.RETRANSMITTED.name, ll, float(st.packets_retransmitted), now),
        sample(m.DROPPED.name, ll, float(st.packets_dropped), now),
        sample(m.BELATED.name, ll, float(st.packets_belated), now),
        sample(m.RECEIVE_BUFFER.name, ll, _s(st.receive_buffer_ms, 1e-3), now),
        sample(m.LATENCY.name, ll, _s(st.latency_ms, 1e-3), now),
        sample(m.FLOW_WINDOW.name, ll, _s(st.flow_window), now),
        sample(m.RECONNECTS.name, ll, float(st.reconnects), now),
        sample(m.ENCRYPTED.name, ll, None if st.encrypted is None else float(st.encrypted),
               now),
    ]


def leg_samples(leg: SrtLeg, i: int, labels: dict[str, str], now: float) -> list[Sample]:
    out: list[Sample] = []
    for n, st in enumerate(leg.status()):
        out += samples_of(st, {**labels, "leg": leg_labels(i, n)}, now)
    return out


def problems(leg: SrtLeg, i: int, dropped_since: int, now: float) -> dict[str, str | None]:
    """This leg's alarm conditions; ``dropped_since`` = packets dropped in the last second."""
    down = []
    for n, st in enumerate(leg.status()):
        if st.state != "connected" and (st.state == "disconnected"
                                        or now - leg.joined_at >= GRACE_S):
            why = f" ({leg.error})" if n == 0 and leg.error else ""
            down.append(f"leg {leg_labels(i, n)} {st.state}{why}")
    return {
        "srt_disconnected": f"SRT {', '.join(down)}" if down else None,
        "srt_dropped": (f"SRT leg {i + 1}: {dropped_since} packets dropped (too late to play)"
                        if dropped_since > 0 else None),
    }


def dropped_total(leg: SrtLeg) -> int:
    return sum(st.packets_dropped for st in leg.status())
