"""How numbers and times read on screen (one place, so every view agrees)."""

from __future__ import annotations

import time

DASH = "—"


def ms(v: float | None) -> str:
    if v is None:
        return DASH
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def pct(ratio: float | None) -> str:
    if ratio is None:
        return DASH
    p = ratio * 100
    return "0 %" if p == 0 else f"{p:.1f} %" if p < 10 else f"{p:.0f} %"


def ago(t: float | None, now: float | None = None) -> str:
    """'12 s ago', '5 min ago', '3 h ago', or the clock time for older."""
    if t is None:
        return DASH
    dt = max(0.0, (time.time() if now is None else now) - t)
    if dt < 60:
        return f"{dt:.0f} s ago"
    if dt < 3600:
        return f"{dt // 60:.0f} min ago"
    if dt < 86400:
        return f"{dt // 3600:.0f} h ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def clock(t: float | None) -> str:
    return DASH if t is None else time.strftime("%H:%M:%S", time.localtime(t))
