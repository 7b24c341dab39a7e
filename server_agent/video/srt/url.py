"""``srt://`` stream URLs (design §8) and how a leg gets its SRT figures.

    srt://HOST:PORT?mode=caller&latency=MS&passphrase_ref=NAME     monitoring copy (caller)
    srt://:PORT?mode=listener                                       monitoring copy (listener)
    ...&relay=HOST:PORT[&relay_mode=caller|listener]               opt-in in-path relay
    srt://HOST:PORT?stats=device&api=HOST:PORT[&driver=sim-makito]      the device's own figures

``mode`` defaults to caller with a host and listener without. ``relay=`` makes the agent
forward what it receives to a second SRT leg (caller to HOST:PORT, or listener on :PORT) and
measure both. ``stats=device`` opens no SRT socket: the figures come from the encoder's or
decoder's API at ``api`` (default HOST:80) through a driver. Passphrases never sit in a URL,
only the name of a secret in the agent's credential store.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from server_agent.video.udp.errors import UrlError

SYNTAX = ("use srt://HOST:PORT?mode=caller or srt://:PORT?mode=listener "
          "(&latency=MS&passphrase_ref=NAME&relay=HOST:PORT&stats=device&api=HOST:PORT)")
_KEYS = {"mode", "latency", "passphrase_ref", "passphrase", "relay", "relay_mode", "stats",
         "api", "driver"}
DRIVERS = ("sim-makito",)


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str | None  # None = all addresses (listener)
    port: int

    def __str__(self) -> str:
        return f"{self.host or ''}:{self.port}"


@dataclass(frozen=True, slots=True)
class SrtUrl:
    scheme: str
    address: str | None
    port: int
    mode: str = "caller"  # caller | listener
    latency_ms: int = 120
    passphrase_ref: str | None = None
    relay: HostPort | None = None
    relay_mode: str = "caller"
    stats: str = "monitor"  # monitor | relay | device
    api: HostPort | None = None
    driver: str = "sim-makito"

    rtp = False
    multicast = False

    def __str__(self) -> str:
        q = [f"mode={self.mode}", f"latency={self.latency_ms}"]
        if self.passphrase_ref:
            q.append(f"passphrase_ref={self.passphrase_ref}")
        if self.relay is not None:
            q += [f"relay={self.relay}", f"relay_mode={self.relay_mode}"]
        if self.stats == "device":
            q += ["stats=device", f"api={self.api}", f"driver={self.driver}"]
        return f"srt://{self.address or ''}:{self.port}?" + "&".join(q)

    @property
    def relay_url(self) -> str:
        assert self.relay is not None
        return f"srt://{self.relay}?mode={self.relay_mode}&latency={self.latency_ms}"


def _hostport(url: str, what: str, text: str) -> HostPort:
    host, sep, port_s = text.rpartition(":")
    if not sep or not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise UrlError(f"{url!r}: missing or bad port in {what}; {SYNTAX}")
    if not host:
        return HostPort(None, int(port_s))
    try:
        return HostPort(str(ipaddress.IPv4Address(host)), int(port_s))
    except ValueError:
        raise UrlError(f"{url!r}: {host!r} in {what} is not an IPv4 address; {SYNTAX}") from None


def _one(url: str, query: dict[str, list[str]], key: str, allowed: tuple[str, ...]) -> str | None:
    v = query.get(key, [None])[0]
    if v is not None and v not in allowed:
        raise UrlError(f"{url!r}: {key}={v!r}; use one of {', '.join(allowed)}")
    return v


def parse_srt(url: str) -> SrtUrl:
    parts = urlsplit(url.strip())
    hp = _hostport(url, "the address", parts.netloc.lstrip("@"))
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - _KEYS
    if unknown:
        raise UrlError(f"{url!r}: unknown parameter(s) {', '.join(sorted(unknown))}; {SYNTAX}")
    if "passphrase" in query:
        raise UrlError(f"{url!r}: a passphrase never goes into a URL; store it in the agent's "
                       "credential store and name it with passphrase_ref=NAME")
    mode = _one(url, query, "mode", ("caller", "listener")) or (
        "caller" if hp.host else "listener")
    if mode == "caller" and hp.host is None:
        raise UrlError(f"{url!r}: mode=caller needs a host to call; {SYNTAX}")
    lat = query.get("latency", ["120"])[0]
    if not lat.isdigit() or not 0 < int(lat) <= 60000:
        raise UrlError(f"{url!r}: latency={lat!r} must be milliseconds between 1 and 60000")
    ref = query.get("passphrase_ref", [None])[0] or None
    relay = None
    relay_mode = "caller"
    if "relay" in query:
        relay = _hostport(url, "relay=", query["relay"][0])
        relay_mode = _one(url, query, "relay_mode", ("caller", "listener")) or (
            "caller" if relay.host else "listener")
        if relay_mode == "caller" and relay.host is None:
            raise UrlError(f"{url!r}: relay_mode=caller needs relay=HOST:PORT")
    stats = _one(url, query, "stats", ("monitor", "device")) or "monitor"
    api = None
    driver = _one(url, query, "driver", DRIVERS) or "sim-makito"
    if stats == "device":
        if relay is not None:
            raise UrlError(f"{url!r}: stats=device reads the device's own figures; it cannot "
                           "be combined with relay=")
        if "api" in query:
            api = _hostport(url, "api=", query["api"][0])
        elif hp.host:
            api = HostPort(hp.host, 80)
        if api is None or api.host is None:
            raise UrlError(f"{url!r}: stats=device needs the device's API address "
                           "(api=HOST:PORT)")
    return SrtUrl("srt", hp.host, hp.port, mode, int(lat), ref, relay, relay_mode,
                  "relay" if relay is not None else stats, api, driver)
