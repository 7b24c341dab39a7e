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
from server_agent.video.ts.framer import HEAD, TS, Framer
from server_agent.video.ts.pcr import PcrTrack, StreamClock, Timeline, ref_pcrs_at_once
from server_agent.video.ts.tables import Tables, pts_flags_of

NULL_PID = 0x1FFF
FAST_PCRS = 24  # PCRs in a chunk from which the vectorised PCR path pays
Bytes = bytes | bytearray | memoryview | npt.NDArray[np.uint8]
Pids = npt.NDArray[np.int64]


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
        self.fast_pcr = True  # vectorised PCR checks where they apply (False: per PCR only)
        self.fast_pcr_min = FAST_PCRS

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
        head = self.framer.head  # bytes 0..7 of each packet, contiguous (hdr[:, k] = byte k)
        hdr = head if head is not None and len(head) == n else pk[:, :HEAD].copy()
        b1, b3 = hdr[:, 1], hdr[:, 3]
        pid = ((hdr.view(">u4")[:, 0] >> 8) & 0x1FFF).astype(np.int64)
        t = self._times(pk, hdr, pid, base, now)
        if self.t_first is None:
            self.t_first = t.one(0)
            self.tables.start(self.t_first)
        self.pid_packets += np.bincount(pid, minlength=8192)
        self._count_at("transport_error", t.rows(np.flatnonzero(b1 & 0x80)))
        if not self.tables.cat_seen:  # scrambled packets but no CAT (yet)
            scr = np.flatnonzero((b3 & 0xC0) != 0)
            self._count_at("cat_error", t.rows(scr[pid[scr] != NULL_PID]))
        by_pid = np.argsort(pid, kind="stable")  # one sort, shared by the per-PID checks
        pid_sorted = pid[by_pid]
        cc_err, dup = self._continuity(hdr, by_pid, pid_sorted, t)
        self._psi(pk, (b1 & 0x40) != 0, pid, t, cc_err, dup)
        self._pid_gaps(by_pid, pid_sorted, t)
        t_end = t.one(n - 1)
        self.tables.tick(t_end)
        self._pid_pending(t_end)
        self.t_last = t_end
        self.packets += n
        for tally in self.seconds.values():
            tally.close_before(t_end)

    # --- clock and PCR ----------------------------------------------------------------------

    def _times(self, pk: npt.NDArray[np.uint8], hdr: npt.NDArray[np.uint8], pid: Pids,
               base: int, now: float | None) -> Timeline:
        af = np.flatnonzero(hdr[:, 3] & 0x20)
        rows = af[(hdr[af, 4] >= 7) & ((hdr[af, 5] & 0x10) != 0)]
        clock = self.clock
        start = now if now is not None else self.t_last
        prev = clock.anchor
        ag: list[float] = [] if prev is None else [float(prev[0] - base)]
        at: list[float] = [] if prev is None else [prev[1]]
        if rows.size:
            b = pk[rows, 6:12].astype(np.int64)
            pcrs = ((b[:, 0] << 25) | (b[:, 1] << 17) | (b[:, 2] << 9) | (b[:, 3] << 1)
                    | (b[:, 4] >> 7)) * 300 + (((b[:, 4] & 1) << 8) | b[:, 5])
            disc = (hdr[rows, 5] & 0x80) != 0
            if clock.ref_pid is None:
                clock.ref_pid = int(pid[rows[0]])
            s = self.s
            track = self.pcr.get(clock.ref_pid)
            fast = None
            if (self.fast_pcr and rows.size >= self.fast_pcr_min and track is not None
                    and not disc.any() and (pid[rows] == clock.ref_pid).all()):
                fast = ref_pcrs_at_once(clock, track, base + rows, pcrs, s.pcr_repetition_s,
                                        s.pcr_discontinuity_s, s.pcr_accuracy_ns)
            if fast is not None:
                times, rep_e, _, acc_e = fast
                ag.extend(rows.astype(np.float64).tolist())
                at.extend(times.tolist())
                for j in np.flatnonzero(rep_e | acc_e).tolist():
                    tj = float(times[j])
                    self._count("pcr_repetition_error", tj, int(rep_e[j]))
                    self._count("pcr_accuracy_error", tj, int(acc_e[j]))
                return Timeline(ag, at, clock.spp, start)
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
                if rep or dis or acc:
                    self._count("pcr_repetition_error", tp, rep)
                    self._count("pcr_discontinuity_indicator_error", tp, dis)
                    self._count("pcr_accuracy_error", tp, acc)
        return Timeline(ag, at, clock.spp, start)

    def _interp_one(self, r: int, ag: list[float], at: list[float]) -> float:
        if not ag:
            return self.t_last
        if r >= ag[-1]:
            return at[-1] + (r - ag[-1]) * self.clock.spp
        return float(np.interp(r, ag, at))

    # --- continuity and PID presence (vectorised) -------------------------------------------

    def _continuity(self, hdr: npt.NDArray[np.uint8], by_pid: npt.NDArray[np.intp],
                    pid_sorted: Pids, t: Timeline
                    ) -> tuple[npt.NDArray[np.bool_] | None, npt.NDArray[np.bool_] | None]:
        b3 = hdr[:, 3]
        keep = ((b3[by_pid] & 0x10) != 0) & (pid_sorted != NULL_PID)  # payload, not null
        order = by_pid[keep]  # packets with payload, by PID, in arrival order per PID
        if not order.size:
            return None, None
        ps = pid_sorted[keep]
        cc = (b3[order] & 0x0F).astype(np.int16)
        start = np.empty(ps.size, np.bool_)
        start[0] = True
        np.not_equal(ps[1:], ps[:-1], out=start[1:])
        prev = np.empty_like(cc)
        prev[1:] = cc[:-1]
        prev[start] = self._last_cc[ps[start]]
        d = (cc - prev) & 0x0F
        end = np.empty(ps.size, np.bool_)
        end[-1] = True
        end[:-1] = start[1:]
        if (d == 1).all():  # the usual chunk: every step +1, so no error and no duplicate
            self._last_cc[ps[end]] = cc[end]
            self._last_dup[ps[end]] = False
            return None, None
        di = np.zeros(ps.size, np.bool_)
        has_af = (b3[order] & 0x20) != 0
        if has_af.any():
            o = order[has_af]
            di[has_af] = (hdr[o, 4] > 0) & ((hdr[o, 5] & 0x80) != 0)
        fresh = (prev < 0) | di
        dup = (d == 0) & ~fresh
        prev_dup = np.empty_like(dup)
        prev_dup[1:] = dup[:-1]
        prev_dup[start] = self._last_dup[ps[start]]
        err = ~fresh & (d != 1) & ~(dup & ~prev_dup)
        self._last_cc[ps[end]] = cc[end]
        self._last_dup[ps[end]] = dup[end] & ~err[end]
        cc_err_row = dup_row = None
        if err.any():
            bad = order[err]
            self.pid_cc_errors += np.bincount(ps[err], minlength=8192)
            self._count_at("continuity_count_error", t.rows(bad))
            cc_err_row = np.zeros(len(hdr), np.bool_)
            cc_err_row[bad] = True
        if dup.any():
            dup_row = np.zeros(len(hdr), np.bool_)
            dup_row[order[dup & ~err]] = True
        return cc_err_row, dup_row

    def _pid_gaps(self, by_pid: npt.NDArray[np.intp], pid_sorted: Pids, t: Timeline) -> None:
        """PID_error (1.6) for the referenced PIDs: gaps since each PID's last packet, then
        between its packets in this chunk. A gap can exceed the limit only where the packets
        are far enough apart (index distance x the largest stream time per packet), so only
        those pairs get times."""
        tab = self.tables
        for p, tt in tab.new_refs:
            if math.isnan(self._last_seen[p]):
                self._last_seen[p] = tt
        tab.new_refs.clear()
        ref = tab.is_ref[pid_sorted]
        if not ref.any():
            return
        ps, rows = pid_sorted[ref], by_pid[ref]
        start = np.empty(ps.size, np.bool_)
        start[0] = True
        np.not_equal(ps[1:], ps[:-1], out=start[1:])
        lim = self.s.pid_timeout_s
        cand = start.copy()
        # only a chunk spanning over half the limit can hold two packets that far apart
        # (stream time never decreases along a chunk)
        if ps.size > 1 and t.one(by_pid.size - 1) - t.one(0) > lim * 0.5:
            far = np.zeros(ps.size, np.bool_)
            far[1:] = (rows[1:] - rows[:-1]) * t.max_slope > lim * 0.5
            cand |= far & ~start
        k = np.flatnonzero(cand)
        tk = t.rows(rows[k])
        first = start[k]
        gap = np.empty(k.size)
        gap[first] = tk[first] - self._last_seen[ps[k[first]]]  # NaN (never seen): no gap
        inner = ~first
        if inner.any():
            gap[inner] = tk[inner] - t.rows(rows[k[inner] - 1])
        due = np.where(gap > lim, np.floor(gap / lim), 0).astype(np.int64)
        due[first] = np.maximum(due[first] - self._pid_counted[ps[k[first]]], 0)
        for i in np.flatnonzero(due).tolist():
            self._count("pid_error", float(tk[i]), int(due[i]))
        end = np.empty(ps.size, np.bool_)
        end[-1] = True
        end[:-1] = start[1:]
        self._last_seen[ps[end]] = t.rows(rows[end])
        self._pid_counted[ps[end]] = 0

    def _pid_pending(self, t_end: float) -> None:
        refs = np.flatnonzero(self.tables.is_ref)
        if not refs.size:
            return
        gap = t_end - self._last_seen[refs]  # NaN (never seen) compares False: no gap
        lim = self.s.pid_timeout_s
        due = np.where(gap > lim, np.floor(gap / lim), 0).astype(np.int64)
        new = due - self._pid_counted[refs]
        if (new > 0).any():
            self._count("pid_error", t_end, int(new[new > 0].sum()))
            self._pid_counted[refs] = np.maximum(due, self._pid_counted[refs])

    # --- tables and PES (per packet, few) ---------------------------------------------------

    def _psi(self, pk: npt.NDArray[np.uint8], pusi: npt.NDArray[np.bool_], pid: Pids,
             t: Timeline, cc_err: npt.NDArray[np.bool_] | None,
             dup: npt.NDArray[np.bool_] | None) -> None:
        tab = self.tables
        begin = 0
        while True:
            want = tab.is_psi[pid[begin:]] | (pusi[begin:] & tab.is_pes[pid[begin:]])
            rows = np.flatnonzero(want) + begin
            tab.changed = False
            prow = pid[rows]
            psi = tab.is_psi[prow]
            pts = pts_flags_of(pk, rows)  # for the PES starts
            dups = np.zeros(rows.size, np.bool_) if dup is None else dup[rows]
            for r, p, tr, is_psi, has_pts, d in zip(
                    rows.tolist(), prow.tolist(), t.rows(rows).tolist(), psi.tolist(),
                    pts, dups.tolist(), strict=True):
                if not is_psi:
                    if not d:
                        tab.pes_start(p, tr, has_pts)
                    continue
                tab.packet(p, pk[r].tobytes(), tr, bool(cc_err is not None and cc_err[r]), d)
                if tab.changed:
                    begin = r + 1
                    break
            else:
                return
            if begin >= len(pk):
                return
