"""Per-pixel-column min/max decimation of a live series (no Qt).

A plot W pixels wide cannot show more than one vertical span per pixel column, so a curve is
reduced to the min and max of its samples in each column (peaks survive; subsampling would
lose them), joined column to column. Columns are fixed in absolute time (column k covers
[k*dt, (k+1)*dt)): new samples touch only the newest columns and a scrolling view shifts
whole columns, so the live plot redraws only what changed (desktop/ui/strip.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop.model.ringbuffer import FloatArray

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Envelope:
    """One entry per non-empty column of each curve: by curve, then oldest first."""

    group: IntArray  # which curve
    col: IntArray  # absolute column index
    lo: FloatArray
    hi: FloatArray
    first: FloatArray  # value of the column's first and last sample (for the joins)
    last: FloatArray
    joined: BoolArray  # line from the previous entry's last sample to this one's first

    def __len__(self) -> int:
        return len(self.col)


def envelope(t: FloatArray, v: FloatArray, dt: float, max_gap_s: float,
             group: IntArray | None = None) -> Envelope:
    """Min/max of ``v`` per column of width ``dt``; NaN samples and time gaps longer than
    ``max_gap_s`` break the line (as pyqtgraph's connect="finite" did for NaN).

    ``group`` (non-decreasing) holds several curves in one call, each sorted by time: one
    numpy pass for all the curves of a plot instead of one per curve.
    """
    if group is None:
        group = np.zeros(len(t), np.int64)
    fin = np.isfinite(v) & np.isfinite(t)
    breaks = np.cumsum(~fin)[fin]  # NaNs seen so far, at each kept sample
    t, v, group = t[fin], v[fin], group[fin]
    if not len(t):
        e, i = np.empty(0), np.empty(0, np.int64)
        return Envelope(i, i, e, e, e, e, np.empty(0, bool))
    k = np.floor(t / dt).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, (k[1:] != k[:-1]) | (group[1:] != group[:-1])])
    ends = np.r_[starts[1:], len(t)] - 1
    joined = np.zeros(len(starts), bool)
    if len(starts) > 1:
        prev, cur = ends[:-1], starts[1:]
        joined[1:] = ((breaks[prev] == breaks[cur]) & (t[cur] - t[prev] <= max_gap_s)
                      & (group[prev] == group[cur]))
    return Envelope(group=group[starts], col=k[starts], lo=np.minimum.reduceat(v, starts),
                    hi=np.maximum.reduceat(v, starts), first=v[starts], last=v[ends],
                    joined=joined)


def segments(env: Envelope, first_col: int, top: float,
             height: int) -> tuple[FloatArray, IntArray]:
    """Line segments in pixel coordinates of an image whose column 0 is ``first_col`` and
    whose rows span ``top`` (row 0) down to 0 (row ``height``): one vertical span per
    column plus the joins, as rows (x1, y1, x2, y2) grouped by curve, and each curve's
    number of rows (index = group)."""
    if not len(env):
        return np.empty((0, 4)), np.empty(0, np.int64)
    scale = height / top if top > 0 else 0.0
    x = (env.col - first_col).astype(float) + 0.5
    y_lo, y_hi = (top - env.lo) * scale, (top - env.hi) * scale
    spans = np.column_stack((x, y_lo, x, np.minimum(y_hi, y_lo - 1.0)))  # flat: still 1 px
    j = np.flatnonzero(env.joined)
    joins = np.column_stack((x[j - 1], (top - env.last[j - 1]) * scale,
                             x[j], (top - env.first[j]) * scale))
    groups = np.concatenate((env.group, env.group[j]))
    order = np.argsort(groups, kind="stable")
    return np.concatenate((spans, joins))[order], np.bincount(groups)
