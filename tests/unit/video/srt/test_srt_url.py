"""srt:// URLs (design §8) and how they choose monitor, relay or device figures."""

from __future__ import annotations

import pytest

from server_agent.video.srt.url import HostPort, SrtUrl, parse_srt
from server_agent.video.udp.errors import UrlError
from server_agent.video.udp.url import parse_url


def test_caller_defaults_and_normal_form() -> None:
    u = parse_url("srt://127.0.0.1:9000")
    assert isinstance(u, SrtUrl)
    assert (u.address, u.port, u.mode, u.latency_ms, u.stats) == (
        "127.0.0.1", 9000, "caller", 120, "monitor")
    assert str(u) == "srt://127.0.0.1:9000?mode=caller&latency=120"
    assert not u.rtp and not u.multicast


def test_listener_on_all_addresses_with_passphrase_ref() -> None:
    u = parse_srt("srt://:9001?mode=listener&latency=300&passphrase_ref=srt-main")
    assert u.address is None and u.mode == "listener" and u.latency_ms == 300
    assert u.passphrase_ref == "srt-main"
    assert parse_srt(str(u)) == u  # the normal form parses back to the same leg


def test_relay_and_its_outgoing_url() -> None:
    u = parse_srt("srt://:9001?mode=listener&relay=127.0.0.1:9100")
    assert u.stats == "relay" and u.relay == HostPort("127.0.0.1", 9100)
    assert u.relay_mode == "caller"
    assert u.relay_url == "srt://127.0.0.1:9100?mode=caller&latency=120"
    assert parse_srt("srt://:9001?relay=:9100").relay_mode == "listener"


def test_device_mode_api_defaults_to_the_host() -> None:
    u = parse_srt("srt://127.77.1.1:9000?stats=device")
    assert u.stats == "device" and u.api == HostPort("127.77.1.1", 80)
    assert u.driver == "sim-makito"
    u = parse_srt("srt://127.77.1.1:9000?stats=device&api=127.77.1.1:8080")
    assert u.api == HostPort("127.77.1.1", 8080)


@pytest.mark.parametrize(("url", "says"), [
    ("srt://:9000?mode=caller", "mode=caller needs a host"),
    ("srt://127.0.0.1", "missing or bad port"),
    ("srt://host.example:9000", "is not an IPv4 address"),
    ("srt://127.0.0.1:9000?mode=rendezvous", "mode='rendezvous'; use one of caller, listener"),
    ("srt://127.0.0.1:9000?latency=0", "latency='0' must be milliseconds"),
    ("srt://127.0.0.1:9000?latency=fast", "must be milliseconds"),
    ("srt://127.0.0.1:9000?passphrase=secret12345", "never goes into a URL"),
    ("srt://127.0.0.1:9000?streamid=x", "unknown parameter(s) streamid"),
    ("srt://127.0.0.1:9000?relay=9100", "missing or bad port in relay="),
    ("srt://:9000?relay=:9100&relay_mode=caller", "relay_mode=caller needs relay=HOST:PORT"),
    ("srt://127.0.0.1:9000?stats=device&relay=127.0.0.1:1", "cannot be combined"),
    ("srt://:9000?stats=device", "needs the device's API address"),
    ("srt://127.0.0.1:9000?stats=device&driver=zixi", "driver='zixi'"),
    ("srt://127.0.0.1:9000?stats=relay", "stats='relay'"),
])
def test_bad_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(UrlError) as exc:
        parse_url(url)
    assert says in str(exc.value)
