"""A whole-file analysis (``flypack-agent ts-analyze``) and the report both outputs share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from server_agent.video.ts.analyzer import TsAnalyzer
from server_agent.video.ts.checks import COUNTERS, P1, Tr101290Settings
from server_agent.video.ts.errors import EmptyInput, NotTransportStream, TruncatedInput
from server_agent.video.ts.framer import TS
from server_agent.video.ts.psi import STREAM_TYPES

CHUNK = 7 * TS * 4096  # ~5.4 MB per read


def analyze_file(path: Path, settings: Tr101290Settings | None = None,
                 chunk: int = CHUNK) -> TsAnalyzer:
    """Analyse a file; raises a :class:`~server_agent.video.ts.errors.TsError` subclass for an
    empty, non-TS or truncated file."""
    try:
        size = path.stat().st_size
        fh = path.open("rb", buffering=0)
    except OSError as exc:
        raise NotTransportStream(f"{path}: cannot read: {exc.strerror}") from None
    if size == 0:
        fh.close()
        raise EmptyInput(f"{path} is empty: nothing to analyse")
    an = TsAnalyzer(settings)
    buf = bytearray(chunk)
    view = memoryview(buf)
    with fh:
        while True:
            got = fh.readinto(buf)
            if not got:
                break
            an.feed(np.frombuffer(view[:got], np.uint8))
    rest = an.finish()
    if not an.framer.ever_synced or an.packets == 0:
        raise NotTransportStream(
            f"{path} is not an MPEG-TS file: no run of 188-byte packets starting with the "
            "sync byte 0x47 was found")
    if rest:
        raise TruncatedInput(
            f"{path} is truncated: it ends {rest} bytes into a packet (an MPEG-TS file is a "
            "whole number of 188-byte packets); was it cut off while being written?")
    return an


def report(an: TsAnalyzer, source: str = "") -> dict[str, Any]:
    """The JSON document of ``ts-analyze --json`` (and the basis of the text form)."""
    dur = an.duration_s
    total = int(an.pid_packets.sum())
    rate = total * TS * 8 / dur if dur > 0 else None
    types = {pid: st for p in an.tables.programs.values() for pid, st in p.streams.items()}
    pids = []
    for pid in np.flatnonzero(an.pid_packets).tolist():
        n = int(an.pid_packets[pid])
        st = types.get(pid)
        pids.append({
            "pid": pid, "packets": n,
            "bitrate_bps": None if rate is None else round(rate * n / total),
            "continuity_count_errors": int(an.pid_cc_errors[pid]),
            "type": _pid_type(pid, st, an),
        })
    es = an.error_seconds()
    return {
        "source": source,
        "packets": an.packets,
        "bytes": an.framer.bytes_in,
        "duration_s": round(dur, 6) if an.clock.anchor is not None else None,
        "bitrate_bps": None if rate is None or an.clock.anchor is None else round(rate),
        "tr101290": dict(an.counts),
        "priority1_ok": all(an.counts[c] == 0 for c in P1),
        "errored_seconds": {c: es[c][0] for c in COUNTERS},
        "severely_errored_seconds": {c: es[c][1] for c in COUNTERS},
        "pids": pids,
        "programs": [p.as_dict() for _, p in sorted(an.tables.programs.items())],
        "skipped_bytes": an.framer.skipped_bytes,
    }


def _pid_type(pid: int, st: int | None, an: TsAnalyzer) -> str:
    fixed = {0: "PAT", 1: "CAT", 0x10: "NIT", 0x11: "SDT/BAT", 0x12: "EIT", 0x14: "TDT/TOT",
             0x1FFF: "null"}
    if pid in fixed:
        return fixed[pid]
    if pid in an.tables.pmt_pids:
        return "PMT"
    if st is not None:
        return STREAM_TYPES.get(st, f"stream type 0x{st:02x}")
    if pid in an.pcr:
        return "PCR"
    return "unreferenced"


def render_text(doc: dict[str, Any]) -> str:
    lines = [f"{doc['source']}: {doc['packets']} packets, "
             f"{_fmt_rate(doc['bitrate_bps'])}, {doc['duration_s'] or 0:.3f} s"]
    lines.append("TR 101 290 (count / errored s / severely errored s):")
    for c in COUNTERS:
        lines.append(f"  {'P1' if c in P1 else 'P2'} {c:<36} {doc['tr101290'][c]:>8} "
                     f"{doc['errored_seconds'][c]:>6} {doc['severely_errored_seconds'][c]:>6}")
    lines.append("PIDs:")
    for p in doc["pids"]:
        lines.append(f"  0x{p['pid']:04x} ({p['pid']:>4}) {p['packets']:>10} pkts "
                     f"{_fmt_rate(p['bitrate_bps']):>14}  cc err {p['continuity_count_errors']}"
                     f"  {p['type']}")
    lines.append("Programs:")
    for prog in doc["programs"]:
        lines.append(f"  program {prog['program_number']} PMT 0x{prog['pmt_pid']:04x} "
                     f"PCR {prog['pcr_pid']} {prog['service_name']!r}")
        for s in prog["streams"]:
            lines.append(f"    0x{s['pid']:04x} {s['type']}")
    return "\n".join(lines)


def _fmt_rate(bps: float | None) -> str:
    return "unknown rate" if bps is None else f"{bps / 1e6:.3f} Mb/s"
