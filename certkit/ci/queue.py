"""The listener's durable queue (SQLite): buildsets, their builds, and what was reported.

A trigger is accepted once it is committed here. States of a buildset:
queued -> running -> reporting -> reported; superseded (a newer patch set came) at any point
before reporting; abandoned (the change was abandoned or deleted) at any point before the
review landed; report_failed when Gerrit kept refusing the review past report.give_up_after. A crash while `running` re-queues it; a crash while `reporting` is
resolved by asking Gerrit whether the vote landed, so no patch set is ever voted on twice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certkit.ci.events import Trigger
from certkit.ci.workspace import Change

SCHEMA = """
CREATE TABLE IF NOT EXISTS buildsets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    uuid TEXT NOT NULL,
    trigger TEXT NOT NULL,
    project TEXT NOT NULL, change INTEGER NOT NULL, patchset INTEGER NOT NULL,
    branch TEXT NOT NULL, revision TEXT, url TEXT, subject TEXT NOT NULL DEFAULT '',
    event_time INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL,
    report_started REAL, message TEXT,
    commit_message TEXT NOT NULL DEFAULT '', topic TEXT,
    report_attempts INTEGER NOT NULL DEFAULT 0, next_report_at REAL, report_error TEXT,
    report_uncertain INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS buildsets_state ON buildsets(state);
CREATE INDEX IF NOT EXISTS buildsets_change ON buildsets(project, change);
CREATE TABLE IF NOT EXISTS builds (
    buildset_id INTEGER NOT NULL REFERENCES buildsets(id),
    job TEXT NOT NULL, uuid TEXT NOT NULL, result TEXT, log_dir TEXT, log_url TEXT,
    duration REAL, voting INTEGER NOT NULL DEFAULT 1, error TEXT,
    PRIMARY KEY (buildset_id, job)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
ACTIVE = ("queued", "running")
FINAL = ("reported", "superseded", "abandoned", "report_failed")
_ADDED_COLUMNS = (("commit_message", "TEXT NOT NULL DEFAULT ''"), ("topic", "TEXT"),
                  ("report_attempts", "INTEGER NOT NULL DEFAULT 0"), ("next_report_at", "REAL"),
                  ("report_error", "TEXT"), ("report_uncertain", "INTEGER NOT NULL DEFAULT 1"))


@dataclass(frozen=True)
class Buildset:
    id: int
    uuid: str
    trigger: str
    project: str
    change: int
    patchset: int
    branch: str
    revision: str | None
    url: str | None
    subject: str
    state: str
    report_started: float | None
    commit_message: str = ""
    topic: str | None = None
    report_attempts: int = 0
    next_report_at: float | None = None
    report_error: str | None = None
    report_uncertain: bool = True  # a review may have landed: ask Gerrit before posting again
    updated: float = 0.0

    def as_change(self) -> Change:
        """The patch set this buildset tests, as the event described it."""
        return Change(project=self.project, number=self.change, patchset=self.patchset,
                      branch=self.branch, revision=self.revision, url=self.url,
                      subject=self.subject, message=self.commit_message, topic=self.topic)


class BuildQueue:
    """Thread-safe access to the queue database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Columns added since the first release, for a queue.sqlite an older certkit wrote."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(buildsets)")}
        for column, definition in _ADDED_COLUMNS:
            if column not in have:
                self._db.execute(f"ALTER TABLE buildsets ADD COLUMN {column} {definition}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def enqueue(self, trigger: Trigger) -> tuple[Buildset | None, list[Buildset]]:
        """Accept a trigger: (new buildset or None when a duplicate, buildsets it superseded)."""
        c = trigger.change
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if trigger.kind == "recheck":
                    busy = self._db.execute(
                        "SELECT 1 FROM buildsets WHERE project=? AND change=? AND patchset=? "
                        "AND state IN ('queued','running')", (c.project, c.number, c.patchset))
                    if busy.fetchone():
                        self._db.execute("COMMIT")
                        return None, []
                newer = self._db.execute(
                    "SELECT 1 FROM buildsets WHERE project=? AND change=? AND patchset>?",
                    (c.project, c.number, c.patchset)).fetchone()
                if newer:  # an event for an older patch set arriving late: nothing to do
                    self._db.execute("COMMIT")
                    return None, []
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO buildsets (key, uuid, trigger, project, change, "
                    "patchset, branch, revision, url, subject, commit_message, topic, "
                    "event_time, state, created, updated) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'queued',?,?)",
                    (trigger.key, uuid.uuid4().hex, trigger.kind, c.project, c.number,
                     c.patchset, c.branch, c.revision, c.url, c.subject, c.message, c.topic,
                     trigger.event_time, now, now))
                if cur.rowcount == 0:
                    self._db.execute("COMMIT")
                    return None, []
                new_id = cur.lastrowid
                older = [self._row(r) for r in self._db.execute(
                    "SELECT * FROM buildsets WHERE project=? AND change=? AND patchset<? "
                    "AND state IN ('queued','running')", (c.project, c.number, c.patchset))]
                self._db.execute(
                    "UPDATE buildsets SET state='superseded', updated=? WHERE project=? AND "
                    "change=? AND patchset<? AND state IN ('queued','running')",
                    (now, c.project, c.number, c.patchset))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.get(new_id), older

    def claim(self) -> Buildset | None:
        """The oldest queued buildset, now marked running."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT * FROM buildsets WHERE state='queued' ORDER BY id LIMIT 1").fetchone()
            if row is not None:
                self._db.execute("UPDATE buildsets SET state='running', updated=? WHERE id=?",
                                 (time.time(), row["id"]))
            self._db.execute("COMMIT")
        return self.get(row["id"]) if row is not None else None

    def set_state(self, buildset_id: int, state: str, *, only_from: tuple[str, ...] = ()) -> bool:
        """Move a buildset to state (optionally only from given states); True if it moved."""
        sql = "UPDATE buildsets SET state=?, updated=?"
        params: list[Any] = [state, time.time()]
        if state == "reporting":
            sql += ", report_started=?, report_attempts=0, next_report_at=NULL, " \
                   "report_error=NULL, report_uncertain=1"
            params.append(time.time())
        sql += " WHERE id=?"
        params.append(buildset_id)
        if only_from:
            sql += f" AND state IN ({','.join('?' * len(only_from))})"
            params += list(only_from)
        with self._lock:
            return self._tx(sql, tuple(params)).rowcount == 1

    def cancel_change(self, project: str, change: int, state: str = "abandoned") -> list[Buildset]:
        """Every buildset of the change not yet reported moves to `state`; returns them."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = [self._row(r) for r in self._db.execute(
                    "SELECT * FROM buildsets WHERE project=? AND change=? AND state IN "
                    "('queued','running','reporting')", (project, change))]
                self._db.execute(
                    "UPDATE buildsets SET state=?, updated=? WHERE project=? AND change=? AND "
                    "state IN ('queued','running','reporting')", (state, time.time(), project,
                                                                  change))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return rows

    def report_failed_attempt(self, buildset_id: int, error: str, next_at: float | None,
                              uncertain: bool) -> None:
        """Count a refused review; next_at None means: give up (state report_failed)."""
        with self._lock:
            if next_at is None:
                self._tx("UPDATE buildsets SET state='report_failed', updated=?, report_error=?, "
                         "report_attempts=report_attempts+1, next_report_at=NULL WHERE id=? "
                         "AND state='reporting'", (time.time(), error, buildset_id))
            else:
                self._tx("UPDATE buildsets SET report_error=?, report_attempts=report_attempts+1, "
                         "next_report_at=?, report_uncertain=? WHERE id=?",
                         (error, next_at, int(uncertain), buildset_id))

    def due_reports(self, now: float) -> list[Buildset]:
        """Buildsets waiting to be reported whose next attempt is due."""
        with self._lock:
            rows = list(self._tx("SELECT * FROM buildsets WHERE state='reporting' AND "
                                 "(next_report_at IS NULL OR next_report_at<=?) ORDER BY id",
                                 (now,)))
        return [self._row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of buildsets per state."""
        with self._lock:
            return {row[0]: row[1] for row in
                    self._tx("SELECT state, COUNT(*) FROM buildsets GROUP BY state")}

    def recent(self, limit: int = 20, states: tuple[str, ...] = ()) -> list[Buildset]:
        """The newest buildsets (optionally only in some states), newest first."""
        sql = "SELECT * FROM buildsets"
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
        with self._lock:
            rows = list(self._tx(sql + " ORDER BY id DESC LIMIT ?", (*states, limit)))
        return [self._row(r) for r in rows]

    def set_message(self, buildset_id: int, message: str) -> None:
        with self._lock:
            self._tx("UPDATE buildsets SET message=? WHERE id=?", (message, buildset_id))

    def message(self, buildset_id: int) -> str:
        with self._lock:
            row = self._tx("SELECT message FROM buildsets WHERE id=?", (buildset_id,)).fetchone()
        return row[0] if row and row[0] else ""

    def record_build(self, buildset_id: int, job: str, build_uuid: str, result: str | None,
                     log_dir: str, log_url: str, duration: float, voting: bool,
                     error: str | None) -> None:
        with self._lock:
            self._tx("INSERT OR REPLACE INTO builds VALUES (?,?,?,?,?,?,?,?,?)",
                     (buildset_id, job, build_uuid, result, log_dir, log_url, duration,
                      int(voting), error))

    def builds(self, buildset_id: int) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._tx("SELECT * FROM builds WHERE buildset_id=? ORDER BY rowid",
                                 (buildset_id,)))

    def get(self, buildset_id: int) -> Buildset:
        with self._lock:
            row = self._tx("SELECT * FROM buildsets WHERE id=?", (buildset_id,)).fetchone()
        return self._row(row)

    def in_state(self, *states: str) -> list[Buildset]:
        with self._lock:
            rows = list(self._tx(f"SELECT * FROM buildsets WHERE state IN "
                                 f"({','.join('?' * len(states))}) ORDER BY id", states))
        return [self._row(r) for r in rows]

    def state_of(self, buildset_id: int) -> str:
        with self._lock:
            return self._tx("SELECT state FROM buildsets WHERE id=?", (buildset_id,)).fetchone()[0]

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._tx("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._tx("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @staticmethod
    def _row(row: sqlite3.Row) -> Buildset:
        return Buildset(id=row["id"], uuid=row["uuid"], trigger=row["trigger"],
                        project=row["project"], change=row["change"], patchset=row["patchset"],
                        branch=row["branch"], revision=row["revision"], url=row["url"],
                        subject=row["subject"], state=row["state"],
                        report_started=row["report_started"],
                        commit_message=row["commit_message"], topic=row["topic"],
                        report_attempts=row["report_attempts"],
                        next_report_at=row["next_report_at"], report_error=row["report_error"],
                        report_uncertain=bool(row["report_uncertain"]), updated=row["updated"])
