"""The fleet: which flypacks this laptop knows (persisted), and one snapshot of each.

    fleet = FleetFile(config_dir / "fleet.json")
    fleet.add(FleetEntry(url, fingerprint, pem, username))   # saved at once
    snap = await take_snapshot(client, jobs)                 # health, devices, streams, ...

The file holds no secrets (refresh tokens live in :class:`SecretStore`): URL, user name and the
pinned certificate (public) only. Written atomically (temp file + rename).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from desktop.client._agent import AgentClient, normalize_url
from desktop.client._exceptions import AgentError, FeatureUnavailable, PermissionDenied
from desktop.client._jobs import JobsApi
from desktop.model.overview import FlypackSnapshot

__all__ = ["FleetEntry", "FleetFile", "default_config_dir", "take_snapshot"]


def default_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "flypack"


@dataclass
class FleetEntry:
    url: str
    username: str = ""
    fingerprint: str = ""  # empty for plain http (loopback demos)
    pem: str = ""
    name: str = ""  # the agent's flypack name, learnt at login

    @property
    def key(self) -> str:
        return f"{self.url}|{self.username}"

    @property
    def pin(self) -> tuple[str, str] | None:
        return (self.fingerprint, self.pem) if self.fingerprint and self.pem else None


@dataclass
class FleetFile:
    path: Path
    entries: list[FleetEntry] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> FleetFile:
        fleet = cls(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return fleet
        except (OSError, ValueError) as exc:
            raise AgentError(f"cannot read the fleet list {path}: {exc}",
                             "fix or delete the file; flypacks must then be added again"
                             ) from None
        for item in raw.get("flypacks", []):
            known = {k: str(v) for k, v in item.items() if k in FleetEntry.__dataclass_fields__}
            fleet.entries.append(FleetEntry(**known))
        return fleet

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"flypacks": [asdict(e) for e in self.entries]}, indent=2))
        os.replace(tmp, self.path)

    def find(self, url: str) -> FleetEntry | None:
        url = normalize_url(url)
        return next((e for e in self.entries if e.url == url), None)

    def add(self, entry: FleetEntry) -> None:
        entry.url = normalize_url(entry.url)
        self.entries = [e for e in self.entries if e.url != entry.url] + [entry]
        self.save()

    def remove(self, url: str) -> None:
        self.entries = [e for e in self.entries if e.url != normalize_url(url)]
        self.save()


async def take_snapshot(client: AgentClient, jobs: JobsApi | None = None) -> FlypackSnapshot:
    """What the overview tile needs; optional APIs (streams, alarms, jobs) may be absent."""
    health = await client.health()
    snap = FlypackSnapshot(flypack=health.flypack, url=client.base_url, t=time.time())
    snap.devices = await client.devices()
    with contextlib.suppress(FeatureUnavailable, PermissionDenied):
        snap.streams = await client.streams()
    with contextlib.suppress(FeatureUnavailable, PermissionDenied):
        snap.alarms = await client.alarms()
    if jobs is not None and jobs.available is not False:
        try:
            listed = await jobs.jobs()
            snap.jobs_running = sum(1 for j in listed if j.status in ("running", "queued"))
        except FeatureUnavailable:
            snap.jobs_running = None
    return snap
