"""A stream's path as hops for the Streams tab, and its SRT legs in words (no Qt).

The agent's ``Stream.path`` (its hops with state and reasons, ``first_failing_hop``) is used
when it is there; agents without paths get a local chain: each leg's source -> the agent's
receiver -> the TS analysis, the first hop that fails marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from desktop.model import fmt
from server_agent.contract import SrtLegStats, Stream

__all__ = ["STATE_TEXT", "Hop", "hop_summary", "hops", "mbps", "srt_lines"]

HopState = Literal["ok", "failing", "caused_upstream", "unknown"]
# icon + words: the state is never told by colour alone
STATE_TEXT: dict[str, str] = {"ok": "✓ OK", "failing": "✕ FAILING",
                              "caused_upstream": "↑ caused upstream", "unknown": "? unknown"}
ICON = {"ok": "✓", "failing": "✕", "caused_upstream": "↑", "unknown": "?"}


@dataclass(frozen=True)
class Hop:
    name: str
    state: HopState
    detail: str  # reasons or figures, in words
    first: bool = False  # the first failing hop: where to look

    @property
    def label(self) -> str:
        """Three short lines (the chips share one row): icon + name, the state in words, the
        first reason cut short; the first failing hop's reasons go beside the chain in full
        (:func:`hop_summary`)."""
        if self.first:  # its reasons stand in full beside the chain
            return f"{ICON[self.state]} {self.name}\nFIRST FAILING HOP"
        state = STATE_TEXT[self.state][2:]
        reason = self.detail.split("; ")[0]
        if len(reason) > CHIP_CHARS:
            reason = reason[:CHIP_CHARS - 1] + "…"
        return f"{ICON[self.state]} {self.name}\n{state}" + (f"\n{reason}" if reason else "")


CHIP_CHARS = 28


def hop_summary(chain: list[Hop]) -> str:
    """The first failing hop and all its reasons, in full (under the chips)."""
    first = next((h for h in chain if h.first), None)
    if first is None:
        return "✓ every hop OK" if chain and all(h.state == "ok" for h in chain) else ""
    return f"✕ first failing hop: {first.name}" + (f" — {first.detail}" if first.detail else "")


def mbps(bps: float | None) -> str:
    return fmt.DASH if bps is None else f"{bps / 1e6:.2f} Mb/s"


def hops(s: Stream) -> list[Hop]:
    return _agent_path(s) if s.path else _local_chain(s)


def _agent_path(s: Stream) -> list[Hop]:
    first = s.first_failing_hop
    if first is None:  # an agent that marks states but names no first: the first failing
        first = next((h.name for h in s.path if h.state == "failing"), None)
    return [Hop(h.name, h.state, "; ".join(h.reasons), first=h.name == first) for h in s.path]


def _local_chain(s: Stream) -> list[Hop]:
    out: list[Hop] = []
    for i, url in enumerate(s.legs):
        status = s.leg_status[i] if i < len(s.leg_status) else None
        bad = status is None or not status.up
        why = (status.error if status and status.error else "no datagrams") if bad else \
            mbps(status.bitrate_bps if status else None)
        out.append(Hop(f"leg {i + 1}: {url}", "failing" if bad else "ok", why))
    ts_bad = s.state == "alarm"
    out.append(Hop("TS analysis", "failing" if ts_bad else "ok",
                   ", ".join(s.alarms) if ts_bad else "clean"))
    first = next((i for i, h in enumerate(out) if h.state == "failing"), None)
    if first is not None:
        h = out[first]
        out[first] = Hop(h.name, h.state, h.detail, first=True)
    return out


def _ms(x: float | None) -> str:
    return fmt.DASH if x is None else f"{x:.0f} ms" if x >= 10 else f"{x:.1f} ms"


def srt_lines(s: Stream) -> list[str]:
    """One line per SRT leg: where the figures come from, state, RTT, buffer vs latency,
    losses; then the latency advice if the agent has one."""
    out = []
    for i, leg in enumerate(s.leg_status):
        srt: SrtLegStats | None = leg.srt
        if srt is None:
            continue
        mark = {"connected": "✓", "connecting": "…", "disconnected": "✕"}[srt.state]
        out.append(
            f"leg {i + 1} SRT ({srt.mode}): {mark} {srt.state} · RTT {_ms(srt.rtt_ms)} · "
            f"buffer {_ms(srt.receive_buffer_ms)} / latency {_ms(srt.latency_ms)} · "
            f"lost {srt.packets_lost} · retransmitted {srt.packets_retransmitted} · "
            f"too late {srt.packets_dropped}")
        if srt.advice:
            out.append(f"   → latency advice: {srt.advice}")
    return out
