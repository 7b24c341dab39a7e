"""The video commands of ``flypack-agent``: ``ts-analyze`` and ``stream-check``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class VideoCliError(Exception):
    """A failure the user can fix: one line on stderr, exit 2."""


def cmd_ts_analyze(args: argparse.Namespace) -> int:
    from server_agent.video.ts import TsError, analyze_file, render_text, report

    try:
        an = analyze_file(Path(args.file))
    except TsError as exc:
        raise VideoCliError(str(exc)) from None
    doc = report(an, args.file)
    print(json.dumps(doc, indent=2) if args.json else render_text(doc))
    return 0


def cmd_stream_check(args: argparse.Namespace) -> int:
    from server_agent.video.udp.check import run_check
    from server_agent.video.udp.errors import ReceiverError

    if not 0 < args.seconds <= 3600:
        raise VideoCliError("--seconds must be between 0 and 3600")
    urls = [args.url] + ([args.url2] if args.url2 else [])
    try:
        doc = asyncio.run(run_check(urls, args.seconds, expected_dscp=args.dscp,
                                    buffer_ms=args.buffer_ms, secrets=_secrets(args.config)))
    except ReceiverError as exc:
        raise VideoCliError(str(exc)) from None
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"{' + '.join(doc['urls'])}: {doc['seconds']} s, "
              f"{(doc['bitrate_bps'] or 0) / 1e6:.3f} Mb/s, DSCP {doc['dscp']['observed']}, "
              f"MDI {doc['mdi']['df_ms']}:{doc['mdi']['mlr']}")
        for c, n in doc["tr101290"].items():
            print(f"  {c:<36} {n}")
        if "dual_path" in doc:
            print(f"  2022-7: {doc['dual_path']}")
        for i, leg in enumerate(doc["legs"]):
            for key in ("srt", "srt_relay_out"):
                if key in leg:
                    print(f"  SRT leg {i + 1}{' out' if key != 'srt' else ''}: "
                          + ", ".join(f"{k}={v}" for k, v in leg[key].items()
                                      if k != "advice"))
                    if leg[key]["advice"]:
                        print(f"  advice: {leg[key]['advice']}")
        print("alarms: " + ("; ".join(doc["alarms"]) or "none"), file=sys.stdout)
    return 1 if args.fail_on_alarm and doc["alarms"] else 0


def _secrets(config: str | None) -> Callable[[str], str | None] | None:
    """The agent's credential store (for srt://...&passphrase_ref=NAME), from --config."""
    if config is None:
        return None
    from server_agent.auth.credentials import CredentialStore
    from server_agent.config import ConfigError, load_config

    try:
        cfg = load_config(Path(config))
    except ConfigError as exc:
        raise VideoCliError(str(exc)) from None
    return CredentialStore(cfg.agent.state_dir / "credentials.json").get


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    t = sub.add_parser(
        "ts-analyze", help="TR 101 290 analysis of an MPEG-TS file",
        description="ETSI TR 101 290 priority 1 and 2 analysis of a recorded MPEG-TS file: "
                    "error counters, errored seconds, PIDs with bitrates, programs.",
        epilog="exit status: 0 the file was analysed (whatever it found), 2 it could not be "
               "(missing, empty, not MPEG-TS, truncated)")
    t.add_argument("file", metavar="FILE", help="an MPEG-TS file (188-byte packets), e.g. "
                   "a recording from an encoder")
    t.add_argument("--json", action="store_true",
                   help="print the report as JSON (counters, errored seconds, PIDs, programs)")
    t.set_defaults(func=cmd_ts_analyze)
    s = sub.add_parser(
        "stream-check", help="join a live UDP/RTP/SRT stream for N seconds",
        description="Receive a live stream (one leg, or two for ST 2022-7) for a while and "
                    "report bitrate, DSCP, MDI, TR 101 290 counters and SRT statistics.",
        epilog="exit status: 0 the check ran (whatever it found), 1 alarms with "
               "--fail-on-alarm, 2 it could not run (bad URL, nothing received, ...)")
    s.add_argument("url", metavar="URL", help="udp://@GROUP:PORT[?source=IP&iface=NAME], "
                   "rtp://… or srt://HOST:PORT?mode=caller|listener&latency=MS")
    s.add_argument("url2", metavar="URL2", nargs="?", help="second leg (ST 2022-7; rtp://)")
    s.add_argument("--seconds", type=float, default=5.0, help="how long to listen (default 5)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--fail-on-alarm", action="store_true", help="exit 1 when an alarm was seen")
    s.add_argument("--dscp", type=int, choices=range(64), metavar="0..63",
                   help="expected DSCP (e.g. 46); a different marking is an alarm")
    s.add_argument("--buffer-ms", type=float, default=50.0,
                   help="ST 2022-7 buffer in ms (default 50)")
    s.add_argument("--config", help="agent TOML file, for SRT passphrase_ref= (its "
                   "credential store)")
    s.set_defaults(func=cmd_stream_check)
