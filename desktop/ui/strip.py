"""All live curves of a plot as one cached image, redrawn only where it changed.

Why: 64 curves x 6000 samples as pyqtgraph curves cost ~350 ms a frame here, nearly all of
it Qt stroking lines pixel by pixel. The image has one pixel column per time column
(desktop/model/envelope.py); each 10 Hz tick shifts it by the whole columns that passed and
redraws only the columns with new samples, for every curve (so z-order is that of a full
draw). A full redraw happens on resize, a span or pen change, or when the y range must grow
(or shrink a lot).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from desktop.model.envelope import Envelope, envelope, segments
from desktop.model.ringbuffer import FloatArray, RingBuffer
from desktop.ui.graph import pg
from desktop.ui.qt import QImage, QPainter, QPen, QPoint, QPointF, QRectF

MAX_GAP_S = 5.0  # a join spans at most this much missing time (probes report at 1 Hz)
HEADROOM = 1.2  # the y range's top is the visible maximum times this ...
SHRINK = 0.4  # ... and is lowered again only when the maximum falls below this share


def nice_top(vmax: float) -> float:
    """A round y-axis top above ``vmax`` (a step of 1-1.2-1.5-2-2.5-3-4-5-6-8 x 10^n)."""
    if not math.isfinite(vmax) or vmax <= 0:
        return 1.0
    want = vmax * HEADROOM
    base = 10.0 ** math.floor(math.log10(want))
    steps = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
    return next(m * base for m in steps if m * base >= want)


class StripItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """Paints the cached image into the view: column 0 at x0, one column per dt, rows from
    ``top`` (row 0) down to 0."""

    def __init__(self) -> None:
        super().__init__()
        self.pixels = np.zeros((1, 1), np.uint32)
        self.image = QImage(self.pixels.data, 1, 1, 4, QImage.Format.Format_ARGB32_Premultiplied)
        self.x0, self.dt, self.top = 0.0, 1.0, 1.0

    def allocate(self, width: int, height: int) -> None:
        self.pixels = np.zeros((height, width), np.uint32)  # the image draws into this array
        self.image = QImage(self.pixels.data, width, height, 4 * width,
                            QImage.Format.Format_ARGB32_Premultiplied)

    def place(self, x0: float, dt: float, top: float) -> None:
        self.prepareGeometryChange()
        self.x0, self.dt, self.top = x0, dt, top
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self.x0, 0.0, self.pixels.shape[1] * self.dt, self.top)

    def paint(self, p: QPainter, *args: object) -> None:
        h = self.pixels.shape[0]
        tr = p.transform()
        p.save()
        if abs(tr.m11() * self.dt - 1) < 0.02 and abs(tr.m22() * self.top / h + 1) < 0.02:
            # one image pixel per device pixel (the usual case): a plain blit, several times
            # cheaper than Qt's transformed image path
            corner = tr.map(QPointF(self.x0, self.top))
            p.resetTransform()
            p.drawImage(QPoint(round(corner.x()), round(corner.y())), self.image)
        else:
            p.translate(self.x0, self.top)
            p.scale(self.dt, -self.top / h)
            p.drawImage(0, 0, self.image)
        p.restore()


class StripChart:
    """Keeps :class:`StripItem`'s image in step with a set of ring buffers."""

    def __init__(self, item: StripItem) -> None:
        self.item = item
        self.top = 1.0
        self._geom: tuple[int, int, float] = (0, 0, 0.0)
        self._end = 0  # absolute index of the image's last column
        self._colmax: FloatArray = np.empty(0)  # per column, over all curves (for the y range)
        self._drawn: list[float] = []  # per curve: time of the last sample drawn
        self._segs = pg.Qt.internals.PrimitiveArray(pg.QtCore.QLineF, 4)
        self.full_redraws = 0

    def update(self, curves: Sequence[tuple[RingBuffer, QPen]], now: float, span: float,
               width: int, height: int, force: bool = False) -> None:
        if width < 2 or height < 2:
            return
        dt = span / width
        end = math.floor(now / dt)
        full = (force or (width, height, dt) != self._geom or end - self._end >= width
                or len(curves) != len(self._drawn))
        if not full:
            self._scroll(end - self._end)
            full = not self._redraw_new(curves)
        if full:
            self._redraw_all(curves, width, height, dt, end)
        self.item.place((self._end - width + 1) * dt, dt, self.top)

    def _scroll(self, k: int) -> None:
        if k <= 0:
            return
        px = self.item.pixels
        px[:, :-k] = px[:, k:]
        px[:, -k:] = 0
        self._colmax[:-k] = self._colmax[k:]
        self._colmax[-k:] = -np.inf
        self._end += k

    def _redraw_new(self, curves: Sequence[tuple[RingBuffer, QPen]]) -> bool:
        """Redraw the columns holding samples not drawn yet; False if the y range must
        change (the caller then redraws everything)."""
        width, _, dt = self._geom
        start = self._end - width + 1
        # a new sample lies in the column of the last one drawn or later
        news = [math.floor(drawn / dt) for (buf, _), drawn in zip(curves, self._drawn,
                                                                  strict=True)
                if buf.last_t is not None and buf.last_t > drawn]
        if not news:
            return True
        first = max(min(news), start)
        # a 2 px pen (square caps) reaches one column beyond its segments: clear and redraw
        # from the column before `first`, with all that touches it (spans and joins from the
        # column before that)
        env = self._envelope(curves, (first - 2) * dt)
        cmax = self._colmax.copy()
        cmax[first - start:] = -np.inf
        self._column_max(cmax, env, first, start)
        vmax = float(cmax.max())
        if vmax > self.top or (math.isfinite(vmax) and vmax < self.top * SHRINK):
            return False
        self._colmax = cmax
        redraw = max(0, first - 1 - start)
        self.item.pixels[:, redraw:] = 0
        self._draw(curves, env, start, keep_left_of=redraw)
        return True

    def _redraw_all(self, curves: Sequence[tuple[RingBuffer, QPen]], width: int, height: int,
                    dt: float, end: float) -> None:
        self.full_redraws += 1
        if (width, height) != self._geom[:2]:
            self.item.allocate(width, height)
        self._geom, self._end = (width, height, dt), int(end)
        start = self._end - width + 1
        env = self._envelope(curves, start * dt)
        self._colmax = np.full(width, -np.inf)
        self._column_max(self._colmax, env, start, start)
        self.top = nice_top(float(self._colmax.max()))
        self.item.pixels[:] = 0
        self._drawn = [0.0] * len(curves)
        self._draw(curves, env, start, keep_left_of=0)

    def _envelope(self, curves: Sequence[tuple[RingBuffer, QPen]], t0: float) -> Envelope:
        """All curves' samples from t0 (and the one before, for the join) in one pass."""
        tails = [buf.tail(t0) for buf, _ in curves]
        if not tails:
            return envelope(np.empty(0), np.empty(0), 1.0, MAX_GAP_S)
        group = np.repeat(np.arange(len(tails)), [len(t) for t, _ in tails])
        return envelope(np.concatenate([t for t, _ in tails]),
                        np.concatenate([v for _, v in tails]), self._geom[2], MAX_GAP_S, group)

    def _column_max(self, cmax: FloatArray, env: Envelope, first: int, start: int) -> None:
        inside = (env.col >= first) & (env.col <= self._end)
        np.maximum.at(cmax, env.col[inside] - start, env.hi[inside])

    def _draw(self, curves: Sequence[tuple[RingBuffer, QPen]], env: Envelope, start: int,
              keep_left_of: int) -> None:
        """Draw every segment whole (a clipped line rasterises differently), then put back
        the columns left of ``keep_left_of``: they were right already, and redrawing one
        curve over another there would change which is on top."""
        height = self._geom[1]
        rows, counts = segments(env, start, self.top, height)
        bounds = np.r_[0, np.cumsum(counts)]
        left = max(0, int(rows[:, [0, 2]].min()) - 2) if len(rows) else keep_left_of
        kept = self.item.pixels[:, left:keep_left_of].copy()
        p = QPainter(self.item.image)
        try:
            for i, (buf, pen) in enumerate(curves):
                self._drawn[i] = buf.last_t or 0.0
                lo, hi = (bounds[i], bounds[i + 1]) if i < len(counts) else (0, 0)
                if hi <= lo:
                    continue
                self._segs.resize(int(hi - lo))
                self._segs.ndarray()[:] = rows[lo:hi]
                p.setPen(pen)
                p.drawLines(*self._segs.drawargs())
        finally:
            p.end()
        self.item.pixels[:, left:keep_left_of] = kept
