"""The SRT latency advisor: a pure function over what a leg measured.

Two rules (issue 4): the configured latency should be at least about 4x the RTT (each ARQ
round trip costs one RTT, and SRT needs a few rounds to recover a loss); and drops while the
loss is recoverable (ARQ works at this loss ratio) mean more latency would have saved those
packets. The suggested value gives ARQ enough rounds that a packet is lost on every attempt
with a probability below 1e-6: rounds k with p^k < 1e-6, latency = (k + 1) x RTT.
"""

from __future__ import annotations

import math

RTT_MULTIPLIER = 4.0
RECOVERABLE_LOSS = 0.25  # above this share ARQ mostly resends resends: fix the link instead
RESIDUAL = 1e-6
MIN_RTT_MS = 5.0  # loopback / LAN RTTs under a millisecond would suggest absurdly low values
STEP_MS = 10


def _round_up(ms: float) -> int:
    return int(math.ceil(ms / STEP_MS) * STEP_MS)


def advise(latency_ms: float | None, rtt_ms: float | None, received: int, lost: int,
           dropped: int) -> str | None:
    """Advice for one leg (None when the latency looks right or nothing is known yet).

    ``received``/``lost``/``dropped`` are packet counts over a recent window; ``lost`` = gaps
    before retransmission, ``dropped`` = packets that never arrived in time.
    """
    if latency_ms is None or rtt_ms is None or latency_ms <= 0:
        return None
    rtt = max(rtt_ms, MIN_RTT_MS)
    floor = _round_up(RTT_MULTIPLIER * rtt)
    ratio = lost / (received + lost) if received + lost > 0 else 0.0
    if dropped > 0:
        if ratio >= RECOVERABLE_LOSS:
            return (f"{dropped} packets dropped at {ratio:.0%} loss: more latency will not "
                    "recover this much loss; fix the link (or lower the bitrate)")
        rounds = math.ceil(math.log(RESIDUAL) / math.log(ratio)) if 0 < ratio < 1 else 1
        suggest = max(floor, _round_up((rounds + 1) * rtt), _round_up(latency_ms * 1.5))
        return (f"{dropped} packets dropped while the loss ({ratio:.1%}) is recoverable: "
                f"raise the latency from {latency_ms:g} ms to about {suggest} ms")
    if latency_ms < RTT_MULTIPLIER * rtt_ms:
        return (f"latency {latency_ms:g} ms is below 4x the RTT ({rtt_ms:.1f} ms): raise it "
                f"to about {floor} ms")
    return None
