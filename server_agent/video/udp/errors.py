"""Errors of the UDP/RTP receiver (httpx-style tree).

    ReceiverError            the receiver cannot run; the message says what to do
     ├── UrlError            a stream URL that flypack cannot use (design §8 syntax)
     ├── PortInUse           another socket holds the port
     ├── JoinError           the multicast join (or the interface) failed
     └── NoData              the source sent nothing while we listened
"""

from __future__ import annotations


class ReceiverError(Exception):
    pass


class UrlError(ReceiverError, ValueError):
    pass


class PortInUse(ReceiverError):
    pass


class JoinError(ReceiverError):
    pass


class NoData(ReceiverError):
    pass
