"""``stream-check``: join a live stream for N seconds and report what the agent would report.

Exit codes (design §8): 0 the check ran (whatever it found), 1 with ``--fail-on-alarm`` when
an alarm condition was found, 2 when it could not run (bad URL, port in use, no data, no
SRT connection). ``srt://`` legs add their SRT figures (``srt``, design §8) beside the TS ones.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from server_agent.video.srt.leg import SecretLookup, SrtLeg
from server_agent.video.srt.stats import device_summary
from server_agent.video.srt.url import SrtUrl
from server_agent.video.ts import COUNTERS
from server_agent.video.udp.errors import NoData
from server_agent.video.udp.receiver import StreamReceiver
from server_agent.video.udp.sock import igmp_memberships
from server_agent.video.udp.url import StreamUrl, parse_url

TICK_S = 0.1


async def run_check(urls: list[str], seconds: float, *, expected_dscp: int | None = None,
                    buffer_ms: float = 50.0,
                    secrets: SecretLookup | None = None) -> dict[str, Any]:
    parsed = [parse_url(u) for u in urls]
    rx = StreamReceiver(parsed, expected_dscp=expected_dscp, buffer_ms=buffer_ms,
                        secrets=secrets)
    loop = asyncio.get_running_loop()
    rx.start(loop)
    start = time.time()
    try:
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            await asyncio.sleep(min(TICK_S, max(0.0, deadline - loop.time())))
            rx.tick()
        for i in range(len(rx.legs)):
            rx.read_leg(i)
        rx.tick()
        now = time.time()
        for leg in rx.legs:
            leg.stats.close_interval(now)
        if rx.dual is not None:
            rx.dual.finish()
        igmp = igmp_memberships()  # while still joined
    finally:
        rx.close()
    _srt_ran(rx, urls, seconds)
    if rx.datagrams == 0 and not all(isinstance(u, SrtUrl) and u.stats == "device"
                                     for u in parsed):
        raise NoData(f"no datagram arrived on {', '.join(urls)} in {seconds:g} s: is the "
                     "source sending to this address and port (and, for multicast, is the "
                     "group routed to this interface)?")
    return summarize(rx, parsed, time.time() - start, expected_dscp, igmp)


def _srt_ran(rx: StreamReceiver, urls: list[str], seconds: float) -> None:
    """An SRT leg that never connected (or a device that never answered): could not run."""
    for leg, url in zip(rx.legs, urls, strict=True):
        if not isinstance(leg, SrtLeg):
            continue
        if leg.device is not None:
            if leg.device.polls == 0 or leg.device.latest.state == "connecting":
                raise NoData(f"{url}: the device's API gave no SRT figures in {seconds:g} s"
                             f" ({leg.device.error or 'no answer yet'}); check api=HOST:PORT")
        elif leg.conn is not None and leg.conn.connections == 0:
            how = ("did the source call this address and port?" if leg.url.mode == "listener"
                   else "is the source listening there (mode=listener on its side)?")
            raise NoData(f"no SRT connection on {url} in {seconds:g} s "
                         f"({leg.conn.error or 'nobody connected'}): {how}")


def summarize(rx: StreamReceiver, urls: list[StreamUrl | SrtUrl], elapsed: float,
              expected_dscp: int | None,
              igmp: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    an = rx.analyzer
    legs: list[dict[str, Any]] = []
    for leg in rx.legs:
        st = leg.stats
        span = (st.last_t - st.first_t) if st.first_t and st.last_t else 0.0
        dfs = st.df_history
        legs.append({
            "url": str(leg.url), "datagrams": st.datagrams, "bytes": st.bytes,
            "bitrate_bps": round(st.bytes * 8 / span) if span > 0 else None,
            "join_ms": None if leg.join_ms is None else round(leg.join_ms, 1),
            "dscp": {"observed": st.dscp_observed, "expected": expected_dscp,
                     "mismatched": st.dscp_mismatch},
            "rtp": {"lost": st.seq.lost, "reordered": st.seq.reordered,
                    "duplicates": st.seq.duplicates} if leg.url.rtp else None,
            "inter_arrival_ms": {"mean": _r(st.iat_mean_ms), "max": _r(st.iat_max_ms),
                                 "std": _r(st.iat_std_ms)},
            "mdi": {"df_ms": _r(sum(dfs) / len(dfs)) if dfs else None,
                    "df_ms_max": _r(max(dfs)) if dfs else None},
        })
        if isinstance(leg, SrtLeg):
            legs[-1]["srt"] = (device_summary(leg.status()[0]) if leg.device is not None
                               else leg.figures[0].summary())
            if len(leg.figures) > 1:
                legs[-1]["srt_relay_out"] = leg.figures[1].summary()
    first = legs[0]
    ts_loss = an.counts["continuity_count_error"]
    rtp_lost = sum(leg.stats.seq.lost for leg in rx.legs) if rx.dual is None else (
        rx.dual.lost_both)
    lost_ts = rtp_lost * 7 if urls[0].rtp else ts_loss
    secs = max(elapsed, 1e-9)
    out: dict[str, Any] = {
        "urls": [str(u) for u in urls],
        "seconds": round(elapsed, 3),
        "tr101290": dict(an.counts),
        "bitrate_bps": first["bitrate_bps"],
        "ts_bitrate_bps": round(an.pid_packets.sum() * 188 * 8 / an.duration_s)
        if an.duration_s > 0 else None,
        "dscp": {"observed": sorted({d for leg in legs for d in leg["dscp"]["observed"]}),
                 "expected": expected_dscp},
        "rtp": {k: sum(leg["rtp"][k] for leg in legs) for k in ("lost", "reordered",
                                                              "duplicates")}
        if urls[0].rtp else None,
        "mdi": {"df_ms": first["mdi"]["df_ms"], "df_ms_max": first["mdi"]["df_ms_max"],
                "mlr": round(lost_ts / secs, 3)},
        "legs": legs,
        "igmp": [{"iface": i, "group": g} for i, g in
                 (igmp_memberships() if igmp is None else igmp)],
    }
    if rx.dual is not None:
        out["dual_path"] = rx.dual.as_dict()
    srt = [leg["srt"] for leg in legs if "srt" in leg]
    if srt:
        out["srt"] = srt[0]
    out["alarms"] = alarms_of(out)
    return out


def alarms_of(doc: dict[str, Any]) -> list[str]:
    """The alarm conditions a check found (what --fail-on-alarm exits 1 on)."""
    found = [f"tr101290 {c}: {doc['tr101290'][c]}" for c in COUNTERS if doc["tr101290"][c]]
    exp = doc["dscp"]["expected"]
    if exp is not None and any(d != exp for d in doc["dscp"]["observed"]):
        found.append(f"dscp: observed {doc['dscp']['observed']}, expected {exp}")
    if doc["rtp"] and doc["rtp"]["lost"]:
        found.append(f"rtp lost: {doc['rtp']['lost']}")
    for i, leg in enumerate(doc["legs"]):
        for key in ("srt", "srt_relay_out"):
            s = leg.get(key)
            if s and s["packets_dropped"]:
                found.append(f"srt dropped on leg {i + 1}: {s['packets_dropped']}")
            if s and s["state"] != "connected":
                found.append(f"srt leg {i + 1}{' out' if key != 'srt' else ''} {s['state']}")
    dp = doc.get("dual_path")
    if dp and not dp["hitless"]:
        found.append(f"2022-7 not hitless: lost on both legs {dp['lost_both']}, "
                     f"skew max {dp['skew_ms_max']} ms")
    return found


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)
