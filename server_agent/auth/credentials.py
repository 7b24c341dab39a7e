"""The agent's credential store: named secrets in one 0600 JSON file under state_dir.

The configuration only names secrets (``passphrase_ref = "srt-main"``); their values live
here, are never returned by the API and never logged. Writes are atomic (temp file + rename)
so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


class CredentialStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"{self.path}: credential store is not a JSON object")
        return {str(k): str(v) for k, v in data.items()}

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def names(self) -> list[str]:
        return sorted(self._read())

    def set(self, name: str, value: str) -> None:
        data = self._read()
        data[name] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def get_or_create(self, name: str, nbytes: int = 32) -> str:
        value = self.get(name)
        if value is None:
            value = secrets.token_urlsafe(nbytes)
            self.set(name, value)
        return value
