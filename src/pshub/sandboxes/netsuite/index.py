"""Indexes that keep the NetSuite sandbox fast at 100,000 records per type.

The generic :class:`~pshub.sandboxes.base.SandboxState` lists a collection by reading all of
it. This module adds, in the same SQLite file and transaction:

- an index on ``docs(collection, seq)`` so a collection page is ``LIMIT/OFFSET`` in insert
  order and a count never parses JSON;
- a field index ``ns_field_index(rtype, field, value, rid)`` for references and flagged
  fields, so ``find(customer={"id": "7"})`` and dependency checks are index lookups.

It reaches into SandboxState's connection and lock (private to ``base.py``) because the
state store offers no paged read; moving ``page``/``index`` into ``base.py`` would remove that.
Re-indexings are computed per record (:meth:`RecordIndex.change`) and written in bulk with the
rest of a transaction's writes (:mod:`.persist`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pshub.sandboxes.base import SandboxState

_SCHEMA = (
    "CREATE INDEX IF NOT EXISTS docs_collection_seq ON docs(collection, seq)",
    "CREATE TABLE IF NOT EXISTS ns_field_index (rtype TEXT NOT NULL, field TEXT NOT NULL,"
    " value TEXT NOT NULL, rid TEXT NOT NULL, PRIMARY KEY (rtype, field, value, rid))"
    " WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS ns_field_index_rid ON ns_field_index(rtype, rid)",
)


Row = tuple[str, str, str, str]  # (rtype, field, value, rid)
IndexChange = tuple[bool, list[Row]]  # (drop the record's stored rows first, rows to add)


def index_key(value: Any) -> str | None:
    """The text a field value is indexed under (a reference by its internal id)."""
    if isinstance(value, dict):
        return str(value["id"]) if "id" in value else None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RecordIndex:
    """Paged reads by type and equality lookups on indexed fields."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        with state.sql() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    def page(self, collection: str, limit: int, offset: int) -> list[dict[str, Any]]:
        return self._state.page(collection, limit, offset)

    def ids(self, rtype: str, field: str, value: Any) -> list[str]:
        """Internal ids of the records whose ``field`` equals ``value``."""
        key = index_key(value)
        if key is None:
            return []
        with self._state.sql() as db:
            rows = db.execute(
                "SELECT rid FROM ns_field_index WHERE rtype=? AND field=? AND value=?",
                (rtype, field, key),
            ).fetchall()
        return sorted((r[0] for r in rows), key=_numeric)

    def change(
        self,
        rtype: str,
        rid: str,
        record: dict[str, Any],
        names: list[str],
        before: dict[str, Any] | None = None,
    ) -> IndexChange | None:
        """How to re-index one record: (drop its stored rows first?, rows), or None when
        nothing changes. ``before``: the record as stored until now (``{}`` when new), when
        known: unchanged keys write nothing."""
        rows = _rows(rtype, rid, record, names)
        old = None if before is None else _rows(rtype, rid, before, names) if before else []
        if rows == old:
            return None
        return (old is None or bool(old)), rows

    @staticmethod
    def apply(db: sqlite3.Connection, changes: dict[tuple[str, str], IndexChange]) -> None:
        """Write re-indexings (keyed by (type, internal id)) inside the caller's transaction."""
        stale = [key for key, (drop, _rows) in changes.items() if drop]
        if stale:
            db.executemany("DELETE FROM ns_field_index WHERE rtype=? AND rid=?", stale)
        rows = [row for _drop, found in changes.values() for row in found]
        if rows:
            db.executemany("INSERT OR IGNORE INTO ns_field_index VALUES (?, ?, ?, ?)", rows)


def _rows(rtype: str, rid: str, record: dict[str, Any], names: list[str]) -> list[Row]:
    rows = []
    for name in names:
        value = record.get(name)
        if value is None:  # most indexed fields of a record are absent
            continue
        key = index_key(value)
        if key is not None:
            rows.append((rtype, name, key, rid))
    return rows


def _numeric(rid: str) -> tuple[int, str]:
    return (int(rid), rid) if rid.isdigit() else (0, rid)
