"""Dedicated, indexed SQLite tables for the sandbox's high-volume records: time entries, events.

They live in the same SQLite file and connection as :class:`SandboxState`, so a time entry and
the change event it produces commit in one transaction and both survive a restart. Listing by
workspace and paging the event feed by id use indexes: cost grows with the page, not with the
100,000 entries a benchmark seeds. The connection comes from :meth:`SandboxState.sql`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pshub.sandboxes.base import SandboxState

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kantata_time_entries ("
    " id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL, user_id INTEGER NOT NULL,"
    " story_id INTEGER, date_performed TEXT NOT NULL, approved INTEGER NOT NULL DEFAULT 0,"
    " billable INTEGER NOT NULL, submission_id INTEGER, created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kte_workspace ON kantata_time_entries(workspace_id, id)",
    "CREATE INDEX IF NOT EXISTS kte_date ON kantata_time_entries(date_performed, id)",
    "CREATE INDEX IF NOT EXISTS kte_updated ON kantata_time_entries(updated_at, id)",
    "CREATE INDEX IF NOT EXISTS kte_submission ON kantata_time_entries(submission_id)",
    "CREATE TABLE IF NOT EXISTS kantata_events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, event_type TEXT NOT NULL,"
    " subject_type TEXT NOT NULL, subject_id INTEGER NOT NULL, user_id INTEGER,"
    " workspace_id TEXT, current_payload TEXT, previous_payload TEXT)",
    "CREATE INDEX IF NOT EXISTS kev_subject ON kantata_events(subject_type, subject_id, id)",
    "CREATE INDEX IF NOT EXISTS kev_created ON kantata_events(created_at, id)",
)


def ensure_schema(state: SandboxState) -> None:
    """Create the tables and indexes (idempotent; called when the app is built)."""
    with locked(state) as db:
        for statement in _SCHEMA:
            db.execute(statement)


@contextmanager
def locked(state: SandboxState) -> Iterator[sqlite3.Connection]:
    """The connection, held exclusively by this thread (reads outside a transaction)."""
    with state.sql() as db:
        yield db


def rows(state: SandboxState, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with locked(state) as db:
        return db.execute(sql, tuple(params)).fetchall()


def execute(state: SandboxState, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one statement; returns ``lastrowid`` (inserts) or ``rowcount`` (other writes)."""
    with locked(state) as db:
        cur = db.execute(sql, tuple(params))
        if sql.lstrip().upper().startswith("INSERT"):
            return int(cur.lastrowid or 0)
        return int(cur.rowcount)


def execute_many(state: SandboxState, sql: str, params: Sequence[Sequence[Any]]) -> None:
    with locked(state) as db:
        db.executemany(sql, [tuple(p) for p in params])


def placeholders(count: int) -> str:
    return ",".join("?" * count)
