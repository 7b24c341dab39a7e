from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from server_agent.auth import jwt_hs256 as jwt


def test_round_trip_and_standard_form() -> None:
    tok = jwt.encode({"sub": "alice", "exp": time.time() + 60}, "k" * 32)
    head, body, sig = tok.split(".")
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "typ": "JWT"}
    want = hmac.new(b"k" * 32, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)) == want
    assert jwt.decode(tok, "k" * 32)["sub"] == "alice"


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
    lambda t: t.split(".")[0] + "." + jwt._b64(b'{"sub":"root","exp":9e9}').decode() + "."
    + t.split(".")[2],  # payload swapped
    lambda t: "x.y",
    lambda t: "é.é.é",
])
def test_tampering_is_refused(mutate: object) -> None:
    tok = jwt.encode({"sub": "alice", "exp": time.time() + 60}, "secret-key")
    with pytest.raises(jwt.JwtError):
        jwt.decode(mutate(tok), "secret-key")  # type: ignore[operator]


def test_expiry_is_required_and_enforced() -> None:
    with pytest.raises(jwt.JwtError, match="no expiry"):
        jwt.decode(jwt.encode({"sub": "a"}, "k"), "k")
    with pytest.raises(jwt.JwtExpired):
        jwt.decode(jwt.encode({"sub": "a", "exp": time.time() - 1}, "k"), "k")


def _forged(header: dict[str, object], claims: dict[str, object], sig: bytes) -> str:
    h = jwt._b64(json.dumps(header).encode()).decode()
    p = jwt._b64(json.dumps(claims).encode()).decode()
    return f"{h}.{p}.{jwt._b64(sig).decode()}"


ROOT_CLAIMS = {"sub": "root", "role": "admin", "typ": "access", "exp": time.time() + 600}


@pytest.mark.parametrize("token", [
    _forged({"alg": "HS256", "typ": "JWT"}, ROOT_CLAIMS, b""),           # empty signature
    _forged({"alg": "none", "typ": "JWT"}, ROOT_CLAIMS, b""),            # alg none
    _forged({"alg": "hs256", "typ": "JWT"}, ROOT_CLAIMS, b""),           # case games
    _forged({"alg": "HS256", "typ": "JWT"}, ROOT_CLAIMS, b"\0" * 32),    # zero signature
    _forged({"alg": "HS256", "typ": "JWT"}, ROOT_CLAIMS,                  # another key's
            hmac.new(b"other", b"x", hashlib.sha256).digest()),
])
def test_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(jwt.JwtError):
        jwt.decode(token, "secret-key")


def test_a_truncated_signature_is_refused() -> None:
    tok = jwt.encode({"sub": "alice", "exp": time.time() + 60}, "secret-key")
    head, body, sig = tok.split(".")
    for cut in (1, 8, len(sig) - 1):
        with pytest.raises(jwt.JwtError):
            jwt.decode(f"{head}.{body}.{sig[:cut]}", "secret-key")
