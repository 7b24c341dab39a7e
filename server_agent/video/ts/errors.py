"""Errors of the MPEG-TS analysis (httpx-style tree).

    TsError                      anything the TS analysis cannot do
     ├── NotTransportStream      no 188-byte sync grid found (not MPEG-TS at all)
     ├── EmptyInput              nothing to analyse (an empty file)
     └── TruncatedInput          the input ends inside a packet

The analyser itself never raises on bad packets: it counts them. These are raised only by the
file front-end (:func:`server_agent.video.ts.file_report.analyze_file`) and the CLI maps them to
a one-line message and exit code 2.
"""

from __future__ import annotations


class TsError(Exception):
    """The input cannot be analysed as MPEG-TS; the message says why and what to do."""


class NotTransportStream(TsError):
    pass


class EmptyInput(TsError):
    pass


class TruncatedInput(TsError):
    pass
