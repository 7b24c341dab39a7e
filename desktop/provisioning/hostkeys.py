"""Remembered SSH host keys of provisioning targets (trust on first use, then pinned).

    store = HostKeyStore.load(config_dir / "ssh_host_keys.json")   # next to fleet.json
    store.check("198.51.100.7", 22, "SHA256:abc…")   # "new" | "known"; a different key raises
    store.remember("198.51.100.7", 22, "SHA256:abc…", "ssh-ed25519")

Fingerprints are OpenSSH's ``SHA256:<base64 without padding>`` (as ``ssh-keygen -lf`` prints),
so a technician can compare them with the console of the machine. The file holds public data
only; it is written atomically (temp file + rename) like the fleet list.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop.provisioning.errors import HostKeyChanged, ProvisionError

__all__ = ["FILE_NAME", "HostKey", "HostKeyStore", "KnownKey", "sha256_fingerprint"]

FILE_NAME = "ssh_host_keys.json"


def sha256_fingerprint(key_blob: bytes) -> str:
    """OpenSSH's fingerprint of a public key blob (the wire format of the key)."""
    digest = base64.b64encode(hashlib.sha256(key_blob).digest()).decode()
    return "SHA256:" + digest.rstrip("=")


def _host_id(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"  # OpenSSH known_hosts spelling


@dataclass(frozen=True)
class HostKey:
    """A key a target presented: its type (ssh-ed25519, …) and fingerprint."""

    key_type: str
    fingerprint: str


@dataclass
class KnownKey:
    fingerprint: str
    key_type: str = ""
    added: float = 0.0


@dataclass
class HostKeyStore:
    path: Path
    keys: dict[str, KnownKey] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> HostKeyStore:
        store = cls(path)
        try:
            raw = json.loads(path.read_text())
            hosts = raw.get("hosts", {})
            for host_id, item in hosts.items():
                store.keys[str(host_id)] = KnownKey(str(item["fingerprint"]),
                                                    str(item.get("key_type", "")),
                                                    float(item.get("added", 0.0)))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProvisionError(f"cannot read the remembered SSH host keys {path}: {exc}",
                                 "fix or delete the file; each target's key is then "
                                 "confirmed again") from None
        return store

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"hosts": {h: {"fingerprint": k.fingerprint, "key_type": k.key_type,
                              "added": k.added} for h, k in sorted(self.keys.items())}}
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.path)

    def lookup(self, host: str, port: int) -> KnownKey | None:
        return self.keys.get(_host_id(host, port))

    def check(self, host: str, port: int, fingerprint: str) -> str:
        """'known' when it matches the remembered key, 'new' when none is remembered;
        raises :class:`HostKeyChanged` when a different key was remembered."""
        known = self.lookup(host, port)
        if known is None:
            return "new"
        if known.fingerprint != fingerprint:
            raise HostKeyChanged(_host_id(host, port), known.fingerprint, fingerprint)
        return "known"

    def remember(self, host: str, port: int, fingerprint: str, key_type: str = "") -> None:
        self.keys[_host_id(host, port)] = KnownKey(fingerprint, key_type, time.time())
        self.save()

    def forget(self, host: str, port: int) -> None:
        if self.keys.pop(_host_id(host, port), None) is not None:
            self.save()
