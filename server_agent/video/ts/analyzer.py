"""TsAnalyzer: TR 101 290 priority 1 + 2, per-PID counts and the PSI inventory, fed chunks.

    feed(bytes) ─► Framer (sync grid, 1.1/1.2) ─► packets (n, 188)
                   ├─ vectorised: header fields, TEI (2.1), scrambling (2.6), PID counts,
                   │              continuity per PID (1.4, one stable sort by PID), PID_error (1.6)
                   ├─ PCR packets (few): StreamClock, PcrTrack (2.3a, 2.3b, 2.4)
                   └─ table PIDs and PES starts (few): Tables (1.3, 1.5, 2.2, 2.5, CAT 2.6)

The same code analyses a file (chunks of ~1 MB) and a live stream (chunks of 100 ms). It never
raises on bad input: whatever the bytes, they become counts. Continuity (1.4): per PID, packets
with payload must increment the counter by one (mod 16); one repeat (a duplicate) is legal, a
second one is an error, as is any other step, except on the first packet of a PID and where
the discontinuity_indicator is set; packets without payload are not checked (they do not
increment), so a dropped payload-less packet is no error. The null PID is not checked.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from server_agent.video.ts.checks import COUNTERS, SecondsTally, Tr101290Settings
from server_agent.video.ts.framer import TS, Framer
from server_agent.video.ts.pcr import PcrTrack, StreamClock
from server_agent.video.ts.tables import Tables

NULL_PID = 0x1FFF
Bytes = bytes | bytearray | memoryview | npt.NDArray[np.uint8]


class TsAnalyzer:
    def __init__(self, settings: Tr101290Settings | None = None) -> None:
        self.s = s = settings or Tr101290Settings()
        self.framer = Framer(s.sync_acquire, s.sync_lose)
        self.counts: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.seconds = {c: SecondsTally(s.ses_errors) for c in COUNTERS}
        self.tables = Tables(s, self._count)
        self.clock = StreamClock()
        self.pcr: dict[int, PcrTrack] = {}
        self.packets = 0
        self.pid_packets = np.zeros(8192, np.int64)
        self.pid_cc_errors = np.zeros(8192, np.int64)
        self._last_cc = np.full(8192, -1, np.int16)
        self._last_dup = np.zeros(8192, np.bool_)
        self._last_seen = np.full(8192, np.nan)
        self._pid_counted = np.zeros(8192, np.int64)
        self.t_first: float | None = None
        self.t_last = 0.0
        self._sync_seen = (0, 0)

    # --- results ----------------------------------------------------------------------------

    def _count(self, name: str, t: float, n: int) -> None:
        if n > 0:
            self.counts[name] += n
            self.seconds[name].add(t, n)

    def _count_at(self, name: str, times: npt.NDArray[np.float64]) -> None:
        if times.size:
            self.counts[name] += int(times.size)
            secs, per = np.unique(np.floor(times), return_counts=True)
            for sec, k in zip(secs.tolist(), per.tolist(), strict=True):
                self.seconds[name].add(sec, k)

    @property
    def duration_s(self) -> float:
        return 0.0 if self.t_first is None else self.t_last - self.t_first + self.clock.spp

    def error_seconds(self) -> dict[str, tuple[int, int]]:
        return {c: self.seconds[c].totals() for c in COUNTERS}

    # --- input ------------------------------------------------------------------------------

    def feed(self, data: Bytes, now: float | None = None) -> None:
        """Analyse the next bytes; ``now`` (arrival time) is used only before the first PCR."""
        pk, _bad = self.framer.push(data)
        self._sync_counts(now)
        if len(pk):
            self._packets(pk, now)

    def finish(self) -> int:
        """End of input: analyse what the framer held back; returns the bytes left over."""
        pk, rest = self.framer.flush()
        self._sync_counts(None)
        if len(pk):
            self._packets(pk, None)
        for tally in self.seconds.values():
            tally.close_before(None)
        return rest

    def _sync_counts(self, now: float | None) -> None:
        f = self.framer
        t = self.t_last if now is None or self.clock.anchor is not None else now
        se, sl = f.sync_byte_error, f.ts_sync_loss
        self._count("sync_byte_error", t, se - self._sync_seen[0])
        self._count("ts_sync_loss", t, sl - self._sync_seen[1])
        self._sync_seen = (se, sl)

    def _packets(self, pk: npt.NDArray[np.uint8], now: float | None) -> None:
        n = len(pk)
        base = self.packets
        b1, b3 = pk[:, 1], pk[:, 3]
        pid = ((b1 & 0x1F).astype(np.int64) << 8) | pk[:, 2]
        t = self._times(pk, pid, base, now)
        if self.t_first is None:
            self.t_first = float(t[0])
            self.tables.start(float(t[0]))
        self.pid_packets += np.bincount(pid, minlength=8192)
        self._count_at("transport_error", t[np.flatnonzero(b1 & 0x80)])
        if not self.tables.cat_seen:  # scrambled packets but no CAT (yet)
            scr = np.flatnonzero((b3 & 0xC0) != 0)
            self._count_at("cat_error", t[scr[pid[scr] != NULL_PID]])
        cc_err, dup = self._continuity(pk, pid, t)
        self._psi(pk, pid, t, cc_err, dup)
        self._pid_gaps(pid, t)
        t_end = float(t[-1])
        self.tables.tick(t_end)
        self._pid_pending(t_end)
        self.t_last = t_end
        self.packets += n
        for tally in self.seconds.values():
            tally.close_before(t_end)

    # --- clock and PCR ----------------------------------------------------------------------

    def _times(self, pk: npt.NDArray[np.uint8], pid: npt.NDArray[np.int64], base: int,
               now: float | None) -> npt.NDArray[np.float64]:
        n = len(pk)
        af = np.flatnonzero(pk[:, 3] & 0x20)
        rows = af[(pk[af, 4] >= 7) & ((pk[af, 5] & 0x10) != 0)]
        clock = self.clock
        start = now if now is not None else self.t_last
        prev = clock.anchor
        ag: list[float] = [] if prev is None else [float(prev[0] - base)]
        at: list[float] = [] if prev is None else [prev[1]]
        if rows.size:
            b = pk[rows, 6:12].astype(np.int64)
            pcrs = ((b[:, 0] << 25) | (b[:, 1] << 17) | (b[:, 2] << 9) | (b[:, 3] << 1)
                    | (b[:, 4] >> 7)) * 300 + (((b[:, 4] & 1) << 8) | b[:, 5])
            disc = (pk[rows, 5] & 0x80) != 0
            if clock.ref_pid is None:
                clock.ref_pid = int(pid[rows[0]])
            s = self.s
            for r, p, pc, di in zip(rows.tolist(), pid[rows].tolist(), pcrs.tolist(),
                                    disc.tolist(), strict=True):
                if p == clock.ref_pid:
                    tr = clock.advance(base + r, pc, di, start)
                    ag.append(float(r))
                    at.append(tr)
                    tp = tr
                else:
                    tp = self._interp_one(r, ag, at)
                track = self.pcr.get(p)
                if track is None:
                    track = self.pcr[p] = PcrTrack()
                rep, dis, acc = track.check((base + r) * TS, tp, pc, di, s.pcr_repetition_s,
                                            s.pcr_discontinuity_s, s.pcr_accuracy_ns)
                self._count("pcr_repetition_error", tp, rep)
                self._count("pcr_discontinuity_indicator_error", tp, dis)
                self._count("pcr_accuracy_error", tp, acc)
        if not ag:
            return np.full(n, start, np.float64)
        idx = np.arange(n, dtype=np.float64)
        t = np.interp(idx, ag, at)
        last = ag[-1]
        if last < n - 1:
            tail = idx > last
            t[tail] = at[-1] + (idx[tail] - last) * clock.spp
        return t

    def _interp_one(self, r: int, ag: list[float], at: list[float]) -> float:
        if not ag:
            return self.t_last
        if r >= ag[-1]:
            return at[-1] + (r - ag[-1]) * self.clock.spp
        return float(np.interp(r, ag, at))

    # --- continuity and PID presence (vectorised) -------------------------------------------

    def _continuity(self, pk: npt.NDArray[np.uint8], pid: npt.NDArray[np.int64],
                    t: npt.NDArray[np.float64]
                    ) -> tuple[npt.NDArray[np.bool_] | None, npt.NDArray[np.bool_] | None]:
        b3 = pk[:, 3]
        sel = np.flatnonzero((b3 & 0x10) != 0)
        sel = sel[pid[sel] != NULL_PID]
        if not sel.size:
            return None, None
        order = sel[np.argsort(pid[sel], kind="stable")]
        ps = pid[order]
        cc = (b3[order] & 0x0F).astype(np.int16)
        start = np.empty(ps.size, np.bool_)
        start[0] = True
        np.not_equal(ps[1:], ps[:-1], out=start[1:])
        prev = np.empty_like(cc)
        prev[1:] = cc[:-1]
        prev[start] = self._last_cc[ps[start]]
        d = (cc - prev) & 0x0F
        di = np.zeros(ps.size, np.bool_)
        has_af = (b3[order] & 0x20) != 0
        if has_af.any():
            o = order[has_af]
            di[has_af] = (pk[o, 4] > 0) & ((pk[o, 5] & 0x80) != 0)
        fresh = (prev < 0) | di
        dup = (d == 0) & ~fresh
        prev_dup = np.empty_like(dup)
        prev_dup[1:] = dup[:-1]
        prev_dup[start] = self._last_dup[ps[start]]
        err = ~fresh & (d != 1) & ~(dup & ~prev_dup)
        end = np.empty(ps.size, np.bool_)
        end[-1] = True
        end[:-1] = start[1:]
        self._last_cc[ps[end]] = cc[end]
        self._last_dup[ps[end]] = dup[end] & ~err[end]
        cc_err_row = dup_row = None
        if err.any():
            bad = order[err]
            self.pid_cc_errors += np.bincount(pid[bad], minlength=8192)
            self._count_at("continuity_count_error", t[bad])
            cc_err_row = np.zeros(len(pk), np.bool_)
            cc_err_row[bad] = True
        if dup.any():
            dup_row = np.zeros(len(pk), np.bool_)
            dup_row[order[dup & ~err]] = True
        return cc_err_row, dup_row

    def _pid_gaps(self, pid: npt.NDArray[np.int64], t: npt.NDArray[np.float64]) -> None:
        tab = self.tables
        for p, tt in tab.new_refs:
            if math.isnan(self._last_seen[p]):
                self._last_seen[p] = tt
        tab.new_refs.clear()
        ref = np.flatnonzero(tab.is_ref[pid])
        if not ref.size:
            return
        order = ref[np.argsort(pid[ref], kind="stable")]
        ps, ts = pid[order], t[order]
        start = np.empty(ps.size, np.bool_)
        start[0] = True
        np.not_equal(ps[1:], ps[:-1], out=start[1:])
        gap = np.empty(ps.size)
        gap[1:] = ts[1:] - ts[:-1]
        first = ps[start]
        gap[start] = np.nan_to_num(ts[start] - self._last_seen[first], nan=0.0)
        lim = self.s.pid_timeout_s
        due = np.where(gap > lim, np.floor(gap / lim), 0).astype(np.int64)
        due[start] = np.maximum(due[start] - self._pid_counted[first], 0)
        for i in np.flatnonzero(due):
            self._count("pid_error", float(ts[i]), int(due[i]))
        end = np.empty(ps.size, np.bool_)
        end[-1] = True
        end[:-1] = start[1:]
        self._last_seen[ps[end]] = ts[end]
        self._pid_counted[ps[end]] = 0

    def _pid_pending(self, t_end: float) -> None:
        refs = np.flatnonzero(self.tables.is_ref)
        if not refs.size:
            return
        gap = np.nan_to_num(t_end - self._last_seen[refs], nan=0.0)
        lim = self.s.pid_timeout_s
        due = np.where(gap > lim, np.floor(gap / lim), 0).astype(np.int64)
        new = due - self._pid_counted[refs]
        if (new > 0).any():
            self._count("pid_error", t_end, int(new[new > 0].sum()))
            self._pid_counted[refs] = np.maximum(due, self._pid_counted[refs])

    # --- tables and PES (per packet, few) ---------------------------------------------------

    def _psi(self, pk: npt.NDArray[np.uint8], pid: npt.NDArray[np.int64],
             t: npt.NDArray[np.float64], cc_err: npt.NDArray[np.bool_] | None,
             dup: npt.NDArray[np.bool_] | None) -> None:
        tab = self.tables
        pusi = (pk[:, 1] & 0x40) != 0
        begin = 0
        while True:
            want = tab.is_psi[pid[begin:]] | (pusi[begin:] & tab.is_pes[pid[begin:]])
            rows = np.flatnonzero(want) + begin
            tab.changed = False
            for r in rows.tolist():
                tab.packet(int(pid[r]), pk[r].tobytes(), float(t[r]),
                           bool(cc_err is not None and cc_err[r]),
                           bool(dup is not None and dup[r]))
                if tab.changed:
                    begin = r + 1
                    break
            else:
                return
            if begin >= len(pk):
                return
