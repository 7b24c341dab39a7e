"""The per-packet part of the analysis: PSI/SI sections (PAT, PMT, CAT, SDT, CRC) and PES
timestamps (PTS). Only the few packets on table PIDs and PES starts come here; everything else
stays vectorised in :mod:`.analyzer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from server_agent.video.ts.checks import GapTimer, Tr101290Settings
from server_agent.video.ts.crc import section_crc_ok
from server_agent.video.ts.psi import (
    AV_STREAM_TYPES,
    Program,
    SectionAssembler,
    parse_pat,
    parse_pmt,
    parse_sdt,
)

SI_PIDS = (0x0000, 0x0001, 0x0010, 0x0011, 0x0012, 0x0013, 0x0014)
_NO_PTS_STREAM_IDS = frozenset({0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF})
_NO_PTS_LUT = np.zeros(256, np.bool_)
_NO_PTS_LUT[sorted(_NO_PTS_STREAM_IDS)] = True

Count = Callable[[str, float, int], None]
T = TypeVar("T")


def payload_of(pkt: bytes) -> bytes:
    afc = (pkt[3] >> 4) & 3
    if not afc & 1:
        return b""
    start = 4 + (1 + pkt[4] if afc & 2 else 0)
    return pkt[start:] if start < 188 else b""


class Tables:
    """PSI state: programs, which PIDs are tables, PES, referenced; the table timers."""

    def __init__(self, settings: Tr101290Settings, count: Count) -> None:
        self.s = settings
        self.count = count
        self.is_psi = np.zeros(8192, np.bool_)
        self.is_psi[list(SI_PIDS)] = True
        self.is_pes = np.zeros(8192, np.bool_)
        self.is_ref = np.zeros(8192, np.bool_)  # PID_error applies
        self.asm: dict[int, SectionAssembler] = {}
        self.programs: dict[int, Program] = {}
        self.pmt_pids: dict[int, GapTimer] = {}
        self.pts: dict[int, GapTimer] = {}
        self.pat: GapTimer | None = None
        self.cat_seen = False
        self.changed = False  # the set of table/PES PIDs changed while processing
        self.new_refs: list[tuple[int, float]] = []
        self.sections = 0
        self._crc_ok: dict[int, bytes] = {}  # per PID, the last section whose CRC was good
        self._parsed: dict[int, tuple[bytes, Any]] = {}  # per PID, the last parsed section

    def start(self, t: float) -> None:
        if self.pat is None:
            self.pat = GapTimer(self.s.pat_interval_s, t)

    def tick(self, t: float) -> None:
        if self.pat is not None:
            self.count("pat_error", t, self.pat.tick(t))
        for timer in self.pmt_pids.values():
            self.count("pmt_error", t, timer.tick(t))
        for timer in self.pts.values():
            self.count("pts_error", t, timer.tick(t))

    # --- one packet -------------------------------------------------------------------------

    def packet(self, pid: int, pkt: bytes, t: float, cc_error: bool, duplicate: bool) -> None:
        scrambled = pkt[3] & 0xC0
        pusi = bool(pkt[1] & 0x40)
        if self.is_psi[pid]:
            if scrambled:
                if pid == 0:
                    self.count("pat_error", t, 1)
                elif pid in self.pmt_pids:
                    self.count("pmt_error", t, 1)
            elif not duplicate:
                asm = self.asm.get(pid)
                if asm is None:
                    asm = self.asm[pid] = SectionAssembler()
                if cc_error:
                    asm.reset()
                payload = payload_of(pkt)
                if payload:
                    for sec in asm.feed(payload, pusi):
                        self.section(pid, sec, t)
        if pusi and self.is_pes[pid] and not duplicate:
            timer = self.pts.get(pid)
            if timer is not None and (scrambled or _has_pts(payload_of(pkt))):
                self.count("pts_error", t, timer.seen(t))

    def pes_start(self, pid: int, t: float, pts_or_scrambled: bool) -> None:
        """A PES start (not a duplicate) on a PID that is no table: the PTS_error timer."""
        timer = self.pts.get(pid)
        if timer is not None and pts_or_scrambled:
            self.count("pts_error", t, timer.seen(t))

    def section(self, pid: int, sec: bytes, t: float) -> None:
        self.sections += 1
        tid = sec[0]
        if (len(sec) > 1 and sec[1] & 0x80) or tid == 0x73:
            # tables repeat unchanged: a section equal to the last good one on its PID is good
            if self._crc_ok.get(pid) != sec:
                if not section_crc_ok(sec):
                    self.count("crc_error", t, 1)
                    return
                self._crc_ok[pid] = sec
        if pid == 0:
            if tid != 0x00:
                self.count("pat_error", t, 1)
                return
            if self.pat is not None:
                self.count("pat_error", t, self.pat.seen(t))
            pat = self._parse(pid, sec, parse_pat)
            if pat is not None:
                self._on_pat(pat, t)
        elif pid == 1:
            if tid != 0x01:
                self.count("cat_error", t, 1)
            else:
                self.cat_seen = True
        elif pid == 0x11 and tid == 0x42:
            for sid, (prov, name) in parse_sdt(sec).items():
                prog = self.programs.get(sid)
                if prog is not None:
                    prog.provider, prog.service_name = prov, name
        if pid in self.pmt_pids and tid == 0x02:
            self.count("pmt_error", t, self.pmt_pids[pid].seen(t))
            pmt = self._parse(pid, sec, parse_pmt)
            if pmt is not None:
                self._on_pmt(pid, *pmt, t)

    def _parse(self, pid: int, sec: bytes, parse: Callable[[bytes], T]) -> T:
        """``parse(sec)``, reused while a PID repeats the same section (the parsers are pure
        and their results are only read)."""
        last = self._parsed.get(pid)
        if last is not None and last[0] == sec:
            return last[1]  # type: ignore[no-any-return]
        out = parse(sec)
        self._parsed[pid] = (sec, out)
        return out

    def _on_pat(self, pat: dict[int, int], t: float) -> None:
        wanted = {pmt for num, pmt in pat.items() if num != 0}
        for pid in list(self.pmt_pids):
            if pid not in wanted:
                del self.pmt_pids[pid]
                self.is_psi[pid] = pid in SI_PIDS
        for pid in wanted:
            if pid not in self.pmt_pids:
                self.pmt_pids[pid] = GapTimer(self.s.pmt_interval_s, t)
                self.is_psi[pid] = True
                self.changed = True
        for num in list(self.programs):
            if num not in pat or pat[num] != self.programs[num].pmt_pid:
                del self.programs[num]
        for num, pmt in pat.items():
            if num != 0 and num not in self.programs:
                self.programs[num] = Program(num, pmt)

    def _on_pmt(self, pmt_pid: int, number: int, pcr_pid: int, streams: dict[int, int],
                t: float) -> None:
        prog = self.programs.get(number)
        if prog is None or prog.pmt_pid != pmt_pid:
            return
        prog.pcr_pid = pcr_pid if pcr_pid != 0x1FFF else None
        if prog.streams == streams:
            return
        prog.streams = dict(streams)
        self.is_pes[:] = False
        refs: set[int] = set()
        for p in self.programs.values():
            for pid, st in p.streams.items():
                if st in AV_STREAM_TYPES:
                    self.is_pes[pid] = True
                    refs.add(pid)
        for pid in list(self.pts):
            if pid not in refs:
                del self.pts[pid]
        for pid in refs:
            if pid not in self.pts:
                self.pts[pid] = GapTimer(self.s.pts_interval_s, t)
                self.new_refs.append((pid, t))
        self.is_ref[:] = False
        self.is_ref[list(refs)] = True
        self.changed = True


def pts_flags(h: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """For PES-start packets ``h`` (k, 188): scrambled, or a PES header carrying a PTS (what
    :meth:`Tables.packet` decides per packet with ``_has_pts(payload_of(...))``)."""
    afc = (h[:, 3] >> 4) & 3
    start = 4 + np.where(afc & 2, 1 + h[:, 4].astype(np.int64), 0)
    room = ((afc & 1) != 0) & (start <= 188 - 14)
    cols = np.minimum(start, 188 - 14)[:, None] + np.arange(8)
    g = h[np.arange(len(h))[:, None], cols]
    pts = (room & (g[:, 0] == 0) & (g[:, 1] == 0) & (g[:, 2] == 1)
           & ~_NO_PTS_LUT[g[:, 3]] & ((g[:, 7] & 0x80) != 0))
    out: npt.NDArray[np.bool_] = pts | ((h[:, 3] & 0xC0) != 0)
    return out


def pts_flags_of(pk: npt.NDArray[np.uint8], rows: npt.NDArray[np.intp]) -> list[bool]:
    """:func:`pts_flags` for the rows ``rows`` of ``pk``; per packet when they are few."""
    if len(rows) >= 32:
        return list(pts_flags(pk[rows]).tolist())
    out = []
    for r in rows.tolist():
        b = pk[r].tobytes()
        out.append(bool(b[3] & 0xC0) or _has_pts(payload_of(b)))
    return out


def _has_pts(payload: bytes) -> bool:
    if len(payload) < 14 or payload[:3] != b"\x00\x00\x01":
        return False
    if payload[3] in _NO_PTS_STREAM_IDS:
        return False
    return bool(payload[7] & 0x80)
