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
