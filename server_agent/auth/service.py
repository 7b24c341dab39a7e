"""Users, password hashing (argon2id), JWT access/refresh tokens, and the audit log.

Exceptions::

    AuthError                 (base; never carries a secret)
    ├── InvalidCredentials    wrong user or password (one message for both)
    ├── TokenInvalid          expired, malformed, revoked or of the wrong kind
    └── UserError             bad user name/role, duplicate user

Access tokens are short-lived HS256 JWTs carrying ``sub`` and ``role``. Refresh tokens are
JWTs too, but each carries a ``jti`` stored in SQLite: a refresh rotates it (the old one is
revoked), so a stolen refresh token works at most once.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server_agent.auth import jwt_hs256 as jwt
from server_agent.contract import Role, TokenPair
from server_agent.store.db import Database

_USERNAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")

MIGRATIONS = [
    """
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE refresh_tokens (
        jti TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        expires_at REAL NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        t REAL NOT NULL,
        username TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    """
]


class AuthError(Exception):
    pass


class InvalidCredentials(AuthError):
    pass


class TokenInvalid(AuthError):
    pass


class UserError(AuthError):
    pass


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: Role


class AuthService:
    def __init__(
        self,
        db: Database,
        secret: str,
        access_ttl_s: float = 900.0,
        refresh_ttl_s: float = 7 * 86400.0,
    ) -> None:
        self.db = db
        self.secret = secret
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        # OWASP's argon2id minimum (19 MiB, t=2): ~30 ms a login, and a small memory peak on
        # a flypack server that has a budget of 120 MB
        self.hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
        self._dummy_hash = self.hasher.hash(secrets.token_hex(8))
        db.migrate("auth", MIGRATIONS)

    # --- users --------------------------------------------------------------------------

    def add_user(self, username: str, role: Role, password: str) -> None:
        if not _USERNAME.match(username):
            raise UserError(
                f"invalid user name {username!r}: use lower-case letters, digits, '_', '.', '-' "
                "(at most 32, starting with a letter or '_')"
            )
        if len(password) < 8:
            raise UserError("password too short: use at least 8 characters")
        if self.db.one("SELECT 1 FROM users WHERE username = ?", (username,)):
            raise UserError(f"user {username!r} exists already; use `user passwd` to change it")
        self.db.execute(
            "INSERT INTO users(username, role, password_hash, created_at) VALUES (?,?,?,?)",
            (username, role.value, self.hasher.hash(password), time.time()),
        )
        self.audit(None, "user.add", f"{username} role={role.value}")

    def set_password(self, username: str, password: str) -> None:
        if len(password) < 8:
            raise UserError("password too short: use at least 8 characters")
        cur = self.db.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            (self.hasher.hash(password), username),
        )
        if cur.rowcount == 0:
            raise UserError(f"no user {username!r}")
        self.db.execute("UPDATE refresh_tokens SET revoked = 1 WHERE username = ?", (username,))
        self.audit(None, "user.passwd", username)

    def users(self) -> list[tuple[str, Role]]:
        rows = self.db.all("SELECT username, role FROM users ORDER BY username")
        return [(r["username"], Role(r["role"])) for r in rows]

    def authenticate(self, username: str, password: str) -> Principal:
        row = self.db.one("SELECT role, password_hash FROM users WHERE username = ?", (username,))
        try:
            if row is None:
                # same work as a real check, so timing does not reveal which users exist
                self.hasher.verify(self._dummy_hash, password + "x")
                raise InvalidCredentials("wrong user name or password")
            self.hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self.audit(username, "login.failed", "")
            raise InvalidCredentials("wrong user name or password") from None
        if self.hasher.check_needs_rehash(row["password_hash"]):
            self.db.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?",
                (self.hasher.hash(password), username),
            )
        return Principal(username, Role(row["role"]))

    # --- tokens -------------------------------------------------------------------------

    def issue(self, who: Principal) -> TokenPair:
        now = time.time()
        access = jwt.encode(
            {"sub": who.username, "role": who.role.value, "typ": "access", "iat": int(now),
             "exp": now + self.access_ttl_s},
            self.secret,
        )
        jti = secrets.token_urlsafe(16)
        self.db.execute(
            "INSERT INTO refresh_tokens(jti, username, expires_at) VALUES (?,?,?)",
            (jti, who.username, now + self.refresh_ttl_s),
        )
        self.db.execute("DELETE FROM refresh_tokens WHERE expires_at < ?", (now,))
        refresh = jwt.encode(
            {"sub": who.username, "typ": "refresh", "jti": jti, "iat": int(now),
             "exp": now + self.refresh_ttl_s},
            self.secret,
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=self.access_ttl_s,
            role=who.role,
            username=who.username,
        )

    def login(self, username: str, password: str) -> TokenPair:
        who = self.authenticate(username, password)
        self.audit(username, "login", "")
        return self.issue(who)

    def _decode(self, token: str, typ: str) -> dict[str, object]:
        try:
            claims: dict[str, object] = jwt.decode(token, self.secret)
        except jwt.JwtExpired:
            raise TokenInvalid(f"{typ} token expired; log in again") from None
        except jwt.JwtError:
            raise TokenInvalid(f"invalid {typ} token; log in again") from None
        if not isinstance(claims.get("sub"), str):
            raise TokenInvalid(f"invalid {typ} token; log in again")
        if claims.get("typ") != typ:
            raise TokenInvalid(f"not an {typ} token")
        return claims

    def verify_access(self, token: str) -> Principal:
        claims = self._decode(token, "access")
        try:
            role = Role(str(claims["role"]))
        except (KeyError, ValueError):
            raise TokenInvalid("token without a valid role; log in again") from None
        return Principal(str(claims["sub"]), role)

    def refresh(self, token: str) -> TokenPair:
        claims = self._decode(token, "refresh")
        jti = str(claims.get("jti", ""))
        with self.db.lock:
            cur = self.db.execute(
                "UPDATE refresh_tokens SET revoked = 1 WHERE jti = ? AND revoked = 0 "
                "AND expires_at > ?",
                (jti, time.time()),
            )
            if cur.rowcount != 1:
                raise TokenInvalid("refresh token already used or revoked; log in again")
        row = self.db.one("SELECT role FROM users WHERE username = ?", (str(claims["sub"]),))
        if row is None:
            raise TokenInvalid("user no longer exists")
        return self.issue(Principal(str(claims["sub"]), Role(row["role"])))

    # --- audit --------------------------------------------------------------------------

    def audit(self, username: str | None, action: str, detail: str) -> None:
        self.db.execute(
            "INSERT INTO audit(t, username, action, detail) VALUES (?,?,?,?)",
            (time.time(), username, action, detail),
        )

    def audit_log(self, limit: int = 200) -> list[dict[str, object]]:
        rows = self.db.all("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]
