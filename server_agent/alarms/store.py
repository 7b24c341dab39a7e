"""Alarms in SQLite: one row per raise; clearing and acknowledging update that row.

An alarm that raises again after it cleared is a new row. At most one row per key is active
(``cleared_at IS NULL``), which a partial unique index enforces.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from server_agent.contract import Alarm, Severity
from server_agent.store.db import Database

MIGRATIONS = [
    """
    CREATE TABLE alarms (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        device TEXT,
        stream TEXT,
        message TEXT NOT NULL,
        value REAL,
        raised_at REAL NOT NULL,
        cleared_at REAL,
        acked_by TEXT,
        acked_at REAL
    );
    CREATE UNIQUE INDEX alarms_one_active ON alarms(key) WHERE cleared_at IS NULL;
    CREATE INDEX alarms_by_time ON alarms(raised_at);
    """,
]

MAX_LIMIT = 1000


def _alarm(row: sqlite3.Row) -> Alarm:
    return Alarm(
        id=row["id"], key=row["key"], rule=row["rule"], severity=Severity(row["severity"]),
        device=row["device"], stream=row["stream"], message=row["message"],
        active=row["cleared_at"] is None, raised_at=row["raised_at"],
        cleared_at=row["cleared_at"], acked_by=row["acked_by"], acked_at=row["acked_at"],
        value=row["value"],
    )


class AlarmStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("alarms", MIGRATIONS)

    def insert(self, *, key: str, rule: str, severity: Severity, message: str, t: float,
               device: str | None = None, stream: str | None = None,
               value: float | None = None) -> Alarm:
        cur = self.db.execute(
            "INSERT INTO alarms(key, rule, severity, device, stream, message, value, raised_at) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            (key, rule, severity.value, device, stream, message, value, t),
        )
        alarm = self.get(int(cur.lastrowid or 0))
        assert alarm is not None
        return alarm

    def clear(self, alarm_id: int, t: float) -> Alarm | None:
        self.db.execute("UPDATE alarms SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL",
                        (t, alarm_id))
        return self.get(alarm_id)

    def ack(self, alarm_id: int, who: str, t: float) -> tuple[Alarm | None, bool]:
        """(alarm, changed): acking an acked alarm changes nothing."""
        cur = self.db.execute(
            "UPDATE alarms SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL",
            (who, t, alarm_id),
        )
        return self.get(alarm_id), cur.rowcount > 0

    def get(self, alarm_id: int) -> Alarm | None:
        row = self.db.one("SELECT * FROM alarms WHERE id = ?", (alarm_id,))
        return _alarm(row) if row else None

    def active(self) -> list[Alarm]:
        return [_alarm(r) for r in self.db.all(
            "SELECT * FROM alarms WHERE cleared_at IS NULL ORDER BY raised_at, id")]

    def query(self, *, active: bool | None = None, severity: Severity | None = None,
              device: str | None = None, limit: int = 200) -> list[Alarm]:
        where: list[str] = []
        params: list[Any] = []
        if active is not None:
            where.append("cleared_at IS NULL" if active else "cleared_at IS NOT NULL")
        if severity is not None:
            where.append("severity = ?")
            params.append(severity.value)
        if device is not None:
            where.append("device = ?")
            params.append(device)
        sql = "SELECT * FROM alarms"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY raised_at DESC, id DESC LIMIT ?"
        params.append(max(1, min(limit, MAX_LIMIT)))
        return [_alarm(r) for r in self.db.all(sql, params)]
