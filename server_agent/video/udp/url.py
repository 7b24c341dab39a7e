"""Stream URLs (design §8): ``udp://@group:port`` (multicast), ``udp://@:port`` (unicast
listen on all addresses), ``udp://@addr:port`` (unicast on one local address), with
``?source=<ip>`` (source-specific multicast, IGMPv3) and ``?iface=<name|ip>``; ``rtp://``
likewise (RTP header, RFC 3550, in front of the TS). ``srt://`` URLs are parsed by
:mod:`server_agent.video.srt.url`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from server_agent.video.srt.url import SrtUrl, parse_srt
from server_agent.video.udp.errors import UrlError

_SYNTAX = ("use udp://@GROUP:PORT, udp://@:PORT, rtp://… (?source=IP&iface=NAME|IP) or "
           "srt://HOST:PORT?mode=caller|listener")


@dataclass(frozen=True, slots=True)
class StreamUrl:
    scheme: str  # "udp" | "rtp"
    address: str | None  # group or local address; None = any
    port: int
    source: str | None = None
    iface: str | None = None

    @property
    def multicast(self) -> bool:
        return self.address is not None and ipaddress.IPv4Address(self.address).is_multicast

    @property
    def rtp(self) -> bool:
        return self.scheme == "rtp"

    def __str__(self) -> str:
        q = "&".join(f"{k}={v}" for k, v in (("source", self.source), ("iface", self.iface)) if v)
        return f"{self.scheme}://@{self.address or ''}:{self.port}" + (f"?{q}" if q else "")


def parse_url(url: str) -> StreamUrl | SrtUrl:
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise UrlError(f"{url!r} is not a URL ({exc}); {_SYNTAX}") from None
    if parts.scheme == "srt":
        return parse_srt(url)
    if parts.scheme not in ("udp", "rtp"):
        raise UrlError(f"{url!r}: unknown scheme {parts.scheme!r}; {_SYNTAX}")
    netloc = parts.netloc
    if not netloc.startswith("@") and netloc:
        netloc = "@" + netloc  # be lenient: udp://239.1.1.1:5000 means the same
    host, sep, port_s = netloc[1:].rpartition(":")
    if not sep or not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise UrlError(f"{url!r}: missing or bad port; {_SYNTAX}")
    address = None
    if host:
        try:
            address = str(ipaddress.IPv4Address(host))
        except ValueError:
            raise UrlError(f"{url!r}: {host!r} is not an IPv4 address; {_SYNTAX}") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"source", "iface"}
    if unknown:
        raise UrlError(f"{url!r}: unknown parameter(s) {', '.join(sorted(unknown))}; {_SYNTAX}")
    source = query.get("source", [None])[0]
    if source is not None:
        try:
            source = str(ipaddress.IPv4Address(source))
        except ValueError:
            raise UrlError(f"{url!r}: source={source!r} is not an IPv4 address") from None
    iface = query.get("iface", [None])[0] or None
    out = StreamUrl(parts.scheme, address, int(port_s), source, iface)
    if source and not out.multicast:
        raise UrlError(f"{url!r}: source= needs a multicast group address")
    return out
