"""Manual overrides (name, role, notes) of configured and simulated devices, in SQLite.

Their addresses, probes and budgets come from the configuration file (or the simulator); the
name shown, the role and the notes are the operator's, kept here across restarts. Discovered
devices keep theirs in the inventory table (:mod:`server_agent.discovery.inventory`). The id
never changes: alarms, series labels and paths keep naming the device by it.

    DeviceOverrides(db).get(id) -> Override | None
    DeviceOverrides(db).set(id, {"name": ..., "role": ..., "notes": ...}) -> Override | None
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from server_agent.contract import DevicePatch
from server_agent.store.db import Database

MIGRATIONS = [
    """
    CREATE TABLE device_overrides (
        id TEXT PRIMARY KEY,
        name TEXT,
        role TEXT,
        notes TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    )
    """,
]
FIELDS = ("name", "role", "notes")


def patch_changes(p: DevicePatch) -> dict[str, str | None]:
    """The fields a PATCH sets (``null`` included: it removes that override)."""
    return {k: (v.value if hasattr(v, "value") else v)
            for k, v in p.model_dump(exclude_unset=True).items()}


@dataclass(frozen=True)
class Override:
    name: str | None = None
    role: str | None = None
    notes: str = ""

    @property
    def fields(self) -> list[str]:
        """Which fields are set by hand (``Device.overrides``)."""
        return [k for k in FIELDS if getattr(self, k)]


class DeviceOverrides:
    """Read once at start, then kept in memory (every device list reads them)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("device_overrides", MIGRATIONS)
        self._by_id = {r["id"]: Override(r["name"], r["role"], r["notes"])
                       for r in db.all("SELECT id, name, role, notes FROM device_overrides")}

    def get(self, dev_id: str) -> Override | None:
        return self._by_id.get(dev_id)

    def set(self, dev_id: str, changes: dict[str, str | None]) -> Override | None:
        """Apply ``changes`` (``None`` or "" removes that override); None when none is left."""
        old = self._by_id.get(dev_id, Override())
        values = {k: changes[k] if k in changes else getattr(old, k) for k in FIELDS}
        new = Override(values["name"] or None, values["role"] or None, values["notes"] or "")
        if not new.fields:
            self.db.execute("DELETE FROM device_overrides WHERE id = ?", (dev_id,))
            self._by_id.pop(dev_id, None)
            return None
        self.db.execute(
            "INSERT INTO device_overrides(id, name, role, notes, updated_at) "
            "VALUES(?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
            "role = excluded.role, notes = excluded.notes, updated_at = excluded.updated_at",
            (dev_id, new.name, new.role, new.notes, time.time()))
        self._by_id[dev_id] = new
        return new
