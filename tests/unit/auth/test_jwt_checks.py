"""Each refusal of a token names the check that refused it, the expiry boundary and leeway
are exact, and the encoding is the canonical one (a known answer computed outside the code
under test). Written against the mutants `make mutants` found alive in jwt_hs256."""

from __future__ import annotations

import hashlib
import hmac
import json
from types import SimpleNamespace

import pytest

from server_agent.auth import jwt_hs256 as jwt

KEY = "secret-key"
# {"exp":2000000000,"role":"operator","sub":"op-1"} signed with "known-key", built by hand
# (sorted keys, no spaces): what any HS256 implementation makes of these claims
KNOWN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
         "eyJleHAiOjIwMDAwMDAwMDAsInJvbGUiOiJvcGVyYXRvciIsInN1YiI6Im9wLTEifQ."
         "MEIPssOOvICHPLbx2ZrN0P4RZCW3iWdO8WzWrVRAcB0")


def test_the_encoding_is_the_canonical_compact_form() -> None:
    claims = {"sub": "op-1", "role": "operator", "exp": 2000000000}  # not in sorted order
    assert jwt.encode(claims, "known-key") == KNOWN


def _signed(header: object, payload: bytes, key: str = KEY) -> str:
    """A token with a valid HS256 signature over whatever header and payload."""
    h = jwt._b64(json.dumps(header).encode())
    p = jwt._b64(payload)
    sig = hmac.new(key.encode(), h + b"." + p, hashlib.sha256).digest()
    return f"{h.decode()}.{p.decode()}.{jwt._b64(sig).decode()}"


HS256 = {"alg": "HS256", "typ": "JWT"}
FUTURE = 4_000_000_000


@pytest.mark.parametrize(("token", "reason"), [
    ("x.y", "not a JWT"),
    ("a.b.c.d", "not a JWT"),
    ("é.é.é", "not a JWT"),
    ("a.e30.e30", "not base64url"),  # one character: no whole byte
    (f"{jwt._b64(b'not json').decode()}.e30.e30", "bad header"),
    (_signed([1, 2], b'{"exp":4000000000}'), "only HS256 tokens are accepted"),
    # a valid HS256 signature under another algorithm's name: refused for the name
    (_signed({"alg": "HS512", "typ": "JWT"}, b'{"exp":4000000000}'),
     "only HS256 tokens are accepted"),
    (_signed(HS256, b'{"exp":4000000000}', key="other-key"), "bad signature"),
    (_signed(HS256, b"not json"), "bad payload"),
    (_signed(HS256, b"[4000000000]"), "bad payload"),
    (_signed(HS256, b'{"sub":"a"}'), "no expiry"),
    (_signed(HS256, b'{"exp":true}'), "no expiry"),
    (_signed(HS256, b'{"exp":"4000000000"}'), "no expiry"),
])
def test_each_refusal_names_its_check(token: str, reason: str) -> None:
    with pytest.raises(jwt.JwtError) as err:
        jwt.decode(token, KEY)
    assert str(err.value) == reason
    assert type(err.value) is jwt.JwtError


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """jwt_hs256's clock, set by the test."""
    now = SimpleNamespace(t=0.0)
    monkeypatch.setattr(jwt, "time", SimpleNamespace(time=lambda: now.t))
    return now


def test_a_token_is_good_up_to_its_expiry_second_and_not_after(clock: SimpleNamespace) -> None:
    tok = jwt.encode({"sub": "a", "exp": 1000}, KEY)
    clock.t = 1000.0
    assert jwt.decode(tok, KEY)["sub"] == "a"  # at exp: still good (RFC 7519: "on or after"
    # is the limit for nbf; exp is "after which" it must not be accepted)
    clock.t = 1000.5
    with pytest.raises(jwt.JwtExpired) as err:
        jwt.decode(tok, KEY)  # no leeway unless asked for
    assert str(err.value) == "expired"


def test_leeway_extends_the_expiry_by_exactly_that(clock: SimpleNamespace) -> None:
    tok = jwt.encode({"sub": "a", "exp": 1000}, KEY)
    clock.t = 1009.0
    assert jwt.decode(tok, KEY, leeway_s=10)["sub"] == "a"
    clock.t = 1011.0
    with pytest.raises(jwt.JwtExpired):
        jwt.decode(tok, KEY, leeway_s=10)
    clock.t = 995.0
    assert jwt.decode(tok, KEY, leeway_s=10)["sub"] == "a"
