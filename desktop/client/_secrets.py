"""Where refresh tokens live: the OS keyring, or (only if the user says so) this session's memory.

    store = SecretStore.detect()        # refuses the fail/null backends and keyrings.alt
    store.persistent                    # False -> offer "remember for this session only"
    store.put(key, token, persist=...)  # persist=False keeps it in memory only

Design §6/§9: never a silent plaintext fallback. ``keyrings.alt``'s file backends write the
secret to disk (plaintext, or behind a console prompt a GUI cannot answer): they count as
"no usable backend", exactly like ``keyring.backends.fail.Keyring``.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["SecretStore", "backend_problem"]

log = logging.getLogger("flypack.desktop.secrets")
SERVICE = "flypack-desktop"
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def backend_problem(backend: Any) -> str | None:
    """Why ``backend`` may not hold secrets, or None when it is a real keyring."""
    inner = getattr(backend, "backends", None)
    if inner is not None:  # the chainer: every backend in it must be acceptable
        if not inner:
            return "no keyring backend is available"
        for b in inner:
            problem = backend_problem(b)
            if problem:
                return problem
        return None
    name = _name(backend)
    if any(name.startswith(m) for m in _REFUSED_MODULES):
        if "keyrings.alt" in name:
            return f"the only keyring is {name}, which stores secrets in a file (refused)"
        return "no secure keyring (e.g. GNOME Keyring, KWallet, macOS Keychain) is available"
    return None


class SecretStore:
    def __init__(self, backend: Any | None) -> None:
        self.backend = backend
        self.problem = "no keyring backend" if backend is None else backend_problem(backend)
        self._memory: dict[str, str] = {}

    @classmethod
    def detect(cls) -> SecretStore:
        try:
            import keyring

            return cls(keyring.get_keyring())
        except Exception as exc:  # a broken keyring install: treat as none
            log.warning("keyring unavailable: %s", exc)
            return cls(None)

    @property
    def persistent(self) -> bool:
        return self.problem is None

    def put(self, key: str, secret: str, *, persist: bool) -> str:
        """Store; returns where ('keyring' or 'session'). Never writes a file itself."""
        if persist and self.persistent and self.backend is not None:
            try:
                self.backend.set_password(SERVICE, key, secret)
                self._memory.pop(key, None)
                return "keyring"
            except Exception as exc:
                log.warning("keyring refused the secret (%s); keeping it for this session", exc)
        self._memory[key] = secret
        return "session"

    def get(self, key: str) -> str | None:
        if key in self._memory:
            return self._memory[key]
        if self.persistent and self.backend is not None:
            try:
                value = self.backend.get_password(SERVICE, key)
                return None if value is None else str(value)
            except Exception as exc:
                log.warning("keyring read failed: %s", exc)
        return None

    def delete(self, key: str) -> None:
        self._memory.pop(key, None)
        if self.persistent and self.backend is not None:
            try:
                self.backend.delete_password(SERVICE, key)
            except Exception:  # not there: fine
                pass
