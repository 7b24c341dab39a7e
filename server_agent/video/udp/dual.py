"""SMPTE ST 2022-7 for two RTP legs: a seamless merger and the path analysis.

Both legs carry the same RTP sequence numbers. The merger hands each sequence number on once,
in order, holding out-of-order packets for at most ``buffer_s`` (the 2022-7 buffer) before
skipping a gap. The analysis classifies every sequence number once both legs are past it:
on both legs (a skew sample: arrival on leg 2 minus leg 1), on one leg only (``lost_leg1`` /
``lost_leg2``: recovered by the merge), or on neither (``lost_both``: what a 2022-7 receiver
cannot recover). ``hitless`` = nothing lost on both legs and the largest skew within the
buffer (design §8).
"""

from __future__ import annotations

from server_agent.video.udp.rtp import SeqTracker

REORDER = 64  # sequence numbers a leg may be behind before its absence is judged


class DualPath:
    def __init__(self, buffer_s: float = 0.050) -> None:
        self.buffer_s = buffer_s
        self.ext = SeqTracker()  # the merged flow (extension only)
        self.legmax: list[int | None] = [None, None]
        self.arrivals: dict[int, list[float | None]] = {}
        self.held: dict[int, tuple[float, bytes]] = {}
        self.next: int | None = None
        self.judged: int | None = None
        self.lost_leg = [0, 0]
        self.lost_both = 0
        self.skew_sum = 0.0
        self.skew_n = 0
        self.skew_max = 0.0
        self.skipped = 0

    def add(self, leg: int, seq: int, t: float, payload: bytes) -> None:
        ext = self.ext.extend(seq)
        if self.ext.max is None or ext > self.ext.max:
            self.ext.max = ext
        lm = self.legmax[leg]
        if lm is None or ext > lm:
            self.legmax[leg] = ext
        if self.judged is None:
            self.judged = ext
        if self.next is None:
            self.next = ext
        if ext < self.judged:
            return  # too late to judge or deliver
        rec = self.arrivals.get(ext)
        if rec is None:
            rec = self.arrivals[ext] = [None, None]
        if rec[leg] is None:
            rec[leg] = t
        if ext >= self.next and ext not in self.held:
            self.held[ext] = (t, payload)

    def release(self, now: float) -> list[bytes]:
        out: list[bytes] = []
        held = self.held
        while held and self.next is not None:
            item = held.pop(self.next, None)
            if item is not None:
                out.append(item[1])
                self.next += 1
                continue
            first = min(held)
            if now - held[first][0] < self.buffer_s:
                break
            self.skipped += first - self.next
            self.next = first
        self._judge(REORDER)
        return out

    def finish(self) -> None:
        self._judge(0)

    def _judge(self, margin: int) -> None:
        a, b = self.legmax
        if a is None or b is None or self.judged is None:
            return
        horizon = min(a, b) - margin
        arrivals = self.arrivals
        for s in range(self.judged, horizon + 1):
            rec = arrivals.pop(s, None)
            if rec is None:
                self.lost_both += 1
            elif rec[0] is None:
                self.lost_leg[0] += 1
            elif rec[1] is None:
                self.lost_leg[1] += 1
            else:
                skew = rec[1] - rec[0]
                self.skew_sum += skew
                self.skew_n += 1
                self.skew_max = max(self.skew_max, abs(skew))
        self.judged = max(self.judged, horizon + 1)

    @property
    def skew_ms(self) -> float | None:
        return self.skew_sum / self.skew_n * 1000 if self.skew_n else None

    @property
    def hitless(self) -> bool:
        return self.lost_both == 0 and self.skew_max <= self.buffer_s

    def as_dict(self) -> dict[str, object]:
        return {"skew_ms": None if self.skew_ms is None else round(self.skew_ms, 3),
                "skew_ms_max": round(self.skew_max * 1000, 3),
                "lost_leg1": self.lost_leg[0], "lost_leg2": self.lost_leg[1],
                "lost_both": self.lost_both, "hitless": self.hitless,
                "buffer_ms": self.buffer_s * 1000}
