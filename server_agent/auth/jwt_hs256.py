"""Compact JWS (RFC 7515/7519) with HS256 only: the agent signs and checks its own tokens.

The agent never verifies anyone else's tokens, so it needs exactly one algorithm. A general JWT
library pulls in the whole asymmetric-crypto stack (~20 MB of RSS on a small flypack server)
and must be told which algorithms to refuse; this accepts ``HS256`` and nothing else, compares
signatures in constant time, and requires ``exp``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


class JwtError(Exception):
    """Malformed, wrongly signed, or otherwise unusable token."""


class JwtExpired(JwtError):
    pass


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(part: bytes) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
    except (ValueError, TypeError):
        raise JwtError("not base64url") from None


def encode(claims: dict[str, Any], key: str) -> str:
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signing_input = _HEADER + b"." + payload
    sig = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _b64(sig)).decode("ascii")


def decode(token: str, key: str, leeway_s: float = 0.0) -> dict[str, Any]:
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError:
        raise JwtError("not a JWT") from None
    parts = raw.split(b".")
    if len(parts) != 3:
        raise JwtError("not a JWT")
    header_b, payload_b, sig_b = parts
    try:
        header = json.loads(_unb64(header_b))
    except ValueError:
        raise JwtError("bad header") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise JwtError("only HS256 tokens are accepted")
    expected = hmac.new(key.encode(), header_b + b"." + payload_b, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64(sig_b)):
        raise JwtError("bad signature")
    try:
        claims = json.loads(_unb64(payload_b))
    except ValueError:
        raise JwtError("bad payload") from None
    if not isinstance(claims, dict):
        raise JwtError("bad payload")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise JwtError("no expiry")
    if time.time() > exp + leeway_s:
        raise JwtExpired("expired")
    return claims
