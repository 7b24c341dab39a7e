"""SQLite persistence (WAL) with per-component, append-only schema migrations.

Each capability owns its tables and registers its own migration list under its name
(``db.migrate("alarms", [...])``); the applied count per component lives in
``schema_versions``. Migrations are append-only: never edit one that has shipped.

Queries are short and local, so they run synchronously on the event loop thread; the
connection is shared (``check_same_thread=False``) and guarded by a lock for the rare
worker-thread writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


class StoreError(Exception):
    """The agent's database cannot be opened or migrated; the message says what to do."""


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=10
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the agent database {path}: {exc}; check that state_dir exists "
                "and is writable by the agent's user"
            ) from None
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL)"
        )

    def migrate(self, component: str, steps: Sequence[str]) -> None:
        with self.lock:
            row = self.conn.execute(
                "SELECT version FROM schema_versions WHERE component = ?", (component,)
            ).fetchone()
            done = row[0] if row else 0
            if done > len(steps):
                raise StoreError(
                    f"the database at {self.path} was written by a newer agent ({component} "
                    f"schema {done} > {len(steps)}); upgrade the agent or use another state_dir"
                )
            for i, sql in enumerate(steps[done:], start=done + 1):
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for stmt in _statements(sql):
                        self.conn.execute(stmt)
                    self.conn.execute(
                        "INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                        "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                        (component, i),
                    )
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.executemany(sql, rows)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return list(self.conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def _statements(script: str) -> list[str]:
    parts, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            parts.append(buf.strip())
            buf = ""
    if buf.strip():
        parts.append(buf.strip())
    return [p for p in parts if p]
