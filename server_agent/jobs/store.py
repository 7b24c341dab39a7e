"""Jobs and their events in the agent's SQLite database (the persistent queue).

Every event is written as it arrives, so a crash loses nothing already received; at start-up
:meth:`JobStore.interrupt_running` marks jobs left ``running`` as ``interrupted``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from server_agent.contract import Job, JobEvent, JobStatus
from server_agent.store.db import Database

MIGRATIONS = [
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        playbook TEXT NOT NULL,
        status TEXT NOT NULL,
        user TEXT NOT NULL,
        limit_json TEXT NOT NULL,
        vars_json TEXT NOT NULL,
        created REAL NOT NULL,
        started REAL,
        finished REAL,
        reason TEXT NOT NULL DEFAULT '',
        rc INTEGER,
        stats_json TEXT NOT NULL DEFAULT '{}',
        idem_key TEXT UNIQUE,
        request_hash TEXT NOT NULL,
        pid INTEGER,
        data_dir TEXT,
        events INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX jobs_status ON jobs(status, id);
    CREATE TABLE job_events (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        t REAL NOT NULL,
        event TEXT NOT NULL,
        host TEXT,
        task TEXT,
        play TEXT,
        changed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        stdout TEXT NOT NULL DEFAULT '',
        data_json TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (job_id, seq)
    );
    """,
]


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], playbook=row["playbook"], status=JobStatus(row["status"]),
        user=row["user"], limit=json.loads(row["limit_json"]), vars=json.loads(row["vars_json"]),
        created=row["created"], started=row["started"], finished=row["finished"],
        reason=row["reason"], rc=row["rc"], stats=json.loads(row["stats_json"]),
        events=row["events"])


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("jobs", MIGRATIONS)

    def add(self, playbook: str, user: str, limit: list[str], values: dict[str, Any],
            idem_key: str | None, request_hash: str) -> Job:
        cur = self.db.execute(
            "INSERT INTO jobs(playbook, status, user, limit_json, vars_json, created, idem_key, "
            "request_hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            (playbook, JobStatus.queued.value, user, json.dumps(limit), json.dumps(values),
             time.time(), idem_key, request_hash))
        job = self.get(int(cur.lastrowid or 0))
        assert job is not None
        return job

    def by_key(self, idem_key: str) -> tuple[Job, str] | None:
        row = self.db.one("SELECT * FROM jobs WHERE idem_key = ?", (idem_key,))
        return (_job(row), str(row["request_hash"])) if row else None

    def get(self, job_id: int) -> Job | None:
        row = self.db.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    def query(self, status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        if status is None:
            rows = self.db.all("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.db.all("SELECT * FROM jobs WHERE status = ? ORDER BY id DESC LIMIT ?",
                               (status.value, limit))
        return [_job(r) for r in rows]

    def next_queued(self) -> Job | None:
        row = self.db.one("SELECT * FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1")
        return _job(row) if row else None

    def mark_running(self, job_id: int, data_dir: str) -> None:
        self.db.execute("UPDATE jobs SET status = 'running', started = ?, data_dir = ? "
                        "WHERE id = ?", (time.time(), data_dir, job_id))

    def set_pid(self, job_id: int, pid: int) -> None:
        self.db.execute("UPDATE jobs SET pid = ? WHERE id = ?", (pid, job_id))

    def finish(self, job_id: int, status: JobStatus, reason: str = "", rc: int | None = None,
               stats: dict[str, dict[str, int]] | None = None) -> None:
        self.db.execute(
            "UPDATE jobs SET status = ?, finished = ?, reason = ?, rc = ?, stats_json = ? "
            "WHERE id = ? AND status IN ('queued', 'running')",
            (status.value, time.time(), reason, rc, json.dumps(stats or {}), job_id))

    def add_event(self, job_id: int, ev: JobEvent) -> None:
        with self.db.lock:
            self.db.conn.execute("BEGIN")
            try:
                self.db.conn.execute(
                    "INSERT OR IGNORE INTO job_events(job_id, seq, t, event, host, task, play, "
                    "changed, failed, stdout, data_json) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                    (job_id, ev.seq, ev.t, ev.event, ev.host, ev.task, ev.play, int(ev.changed),
                     int(ev.failed), ev.stdout, json.dumps(ev.data, default=str)))
                self.db.conn.execute("UPDATE jobs SET events = events + 1 WHERE id = ?",
                                     (job_id,))
                self.db.conn.execute("COMMIT")
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise

    def events(self, job_id: int, after: int = 0, limit: int = 200) -> list[JobEvent]:
        rows = self.db.all(
            "SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (job_id, after, limit))
        return [JobEvent(seq=r["seq"], t=r["t"], event=r["event"], host=r["host"],
                         task=r["task"], play=r["play"], changed=bool(r["changed"]),
                         failed=bool(r["failed"]), stdout=r["stdout"],
                         data=json.loads(r["data_json"])) for r in rows]

    def running(self) -> list[tuple[int, int | None, str | None]]:
        rows = self.db.all("SELECT id, pid, data_dir FROM jobs WHERE status = 'running'")
        return [(r["id"], r["pid"], r["data_dir"]) for r in rows]

    def finished_dirs(self, keep: int) -> list[tuple[int, str]]:
        """Data dirs of finished jobs beyond the newest ``keep``: to be pruned."""
        rows = self.db.all(
            "SELECT id, data_dir FROM jobs WHERE status NOT IN ('queued', 'running') AND "
            "data_dir IS NOT NULL ORDER BY id DESC LIMIT -1 OFFSET ?", (keep,))
        return [(r["id"], r["data_dir"]) for r in rows]

    def forget_dir(self, job_id: int) -> None:
        self.db.execute("UPDATE jobs SET data_dir = NULL WHERE id = ?", (job_id,))

    def counts(self) -> dict[str, int]:
        rows = self.db.all("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}
