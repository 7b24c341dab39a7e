"""SQLite persistence of the streams created through the API (component ``streams``)."""

from __future__ import annotations

from server_agent.contract import StreamSpec
from server_agent.store.db import Database

MIGRATIONS = [
    "CREATE TABLE streams (id TEXT PRIMARY KEY, body TEXT NOT NULL, created REAL NOT NULL);",
]


class StreamStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("streams", MIGRATIONS)

    def all(self) -> list[StreamSpec]:
        return [StreamSpec.model_validate_json(r["body"])
                for r in self.db.all("SELECT body FROM streams ORDER BY created, id")]

    def put(self, spec: StreamSpec, t: float) -> None:
        self.db.execute("INSERT INTO streams(id, body, created) VALUES(?, ?, ?) ON CONFLICT(id) "
                        "DO UPDATE SET body = excluded.body", (spec.id, spec.model_dump_json(), t))

    def delete(self, stream_id: str) -> None:
        self.db.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
