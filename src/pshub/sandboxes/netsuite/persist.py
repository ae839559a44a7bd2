"""How the NetSuite record store reads and writes its SQLite tables: one transaction's writes
are buffered and applied at its end in a few ``executemany`` statements.

An async job upserts 100 records in one transaction (see :meth:`.store.RecordStore.batch`).
Writing each record as it is validated cost six statements per record (external-id lookup,
id counter read and write, external-id entry, document, field index); here a transaction
(:class:`Txn`, the running thread's only) keeps:

- ``docs``: documents written, serialised at once (later changes to the dict the caller
  holds are not stored, as before), in first-write order so new documents keep their insert
  order (``docs.seq``); ``gone``: documents deleted;
- ``memo``: documents read (or known to be missing), for record types without sublists
  (their lines are edited in place), so 100 time bills naming one employee read it once;
- ``counters``: the internal-id sequences, read once and written once;
- ``index``: field-index rows per record (see :mod:`.index`).

Reads inside the transaction see its own writes (pending documents first, then the memo, then
SQLite); any read that is not a document by key (a page, a count, a scan, an index lookup)
first applies the pending writes, so SQL answers as it did when every write ran at once. The
buffer is applied just before COMMIT and dropped on a rollback, so what is committed, and when,
is what it was: a restarted sandbox on the same file has every record of every finished job.

Documents use :class:`~pshub.sandboxes.base.SandboxState`'s tables (``docs``, ``counters``)
through its connection and lock, as :mod:`.index` does: the state store has no bulk write.
The JSON text is the state store's (keys sorted, ``Decimal`` as text), written by orjson; a
value orjson would write differently (a date, a dataclass, a non-text key, an integer beyond
64 bits) falls back to the standard library, as does reading text orjson refuses (``NaN``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.netsuite.index import IndexChange, RecordIndex

Key = tuple[str, str]  # (collection, id)

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_UPSERT = (
    "INSERT INTO docs(collection, id, body) VALUES(?, ?, ?) "
    "ON CONFLICT(collection, id) DO UPDATE SET body=excluded.body"
)
_COUNTER = "INSERT INTO counters(name, n) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET n=excluded.n"


def _decimal(value: Any) -> str:
    if type(value) is Decimal:
        return str(value)
    raise TypeError(type(value).__name__)  # anything else: the standard library's way


def encode(body: dict[str, Any]) -> str:
    """A document's JSON text, as ``json.dumps(body, default=str, sort_keys=True)`` reads."""
    try:
        return orjson.dumps(body, default=_decimal, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(body, default=str, sort_keys=True)


def decode(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class Txn:
    """One store transaction's pending writes and memoised reads."""

    __slots__ = ("counters", "dirty_counters", "docs", "gone", "index", "memo")

    def __init__(self) -> None:
        self.docs: dict[Key, str] = {}
        self.gone: set[Key] = set()
        self.memo: dict[Key, dict[str, Any] | None] = {}
        self.counters: dict[str, int | None] = {}  # name -> last id handed out
        self.dirty_counters: set[str] = set()
        self.index: dict[tuple[str, str], IndexChange] = {}

    def put(self, key: Key, body: dict[str, Any]) -> None:
        self.docs[key] = encode(body)
        self.memo.pop(key, None)

    def delete(self, key: Key) -> None:
        self.docs.pop(key, None)
        self.gone.add(key)  # applied before the pending puts: a re-created key comes last
        self.memo.pop(key, None)

    def reindex(self, rtype: str, rid: str, change: IndexChange) -> None:
        earlier = self.index.get((rtype, rid))
        if earlier is not None and earlier[0]:  # rows stored before this transaction go too
            change = (True, change[1])
        self.index[(rtype, rid)] = change

    @property
    def pending(self) -> bool:
        return bool(self.docs or self.gone or self.dirty_counters or self.index)


class Docs:
    """SQL reads and the bulk application of a transaction's writes."""

    def __init__(self, state: SandboxState, index: RecordIndex) -> None:
        self.state = state
        self.index = index

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self.state.sql() as db:
            row = db.execute(
                "SELECT body FROM docs WHERE collection=? AND id=?", (collection, key)
            ).fetchone()
        return None if row is None else decode(row[0])

    def get_many(self, collection: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The stored documents among ``keys`` (one query)."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self.state.sql() as db:
            rows = db.execute(
                f"SELECT id, body FROM docs WHERE collection=? AND id IN ({marks})",
                (collection, *keys),
            ).fetchall()
        return {rid: decode(body) for rid, body in rows}

    def counter(self, name: str) -> int | None:
        with self.state.sql() as db:
            row = db.execute("SELECT n FROM counters WHERE name=?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def flush(self, txn: Txn) -> None:
        """Apply the pending writes (inside the transaction, before its COMMIT)."""
        if not txn.pending:
            return
        with self.state.sql() as db:
            if txn.gone:
                db.executemany("DELETE FROM docs WHERE collection=? AND id=?", list(txn.gone))
            if txn.docs:
                db.executemany(_UPSERT, [(c, k, text) for (c, k), text in txn.docs.items()])
            if txn.dirty_counters:
                db.executemany(_COUNTER, [(n, txn.counters[n]) for n in txn.dirty_counters])
            self.index.apply(db, txn.index)
        txn.docs.clear()
        txn.gone.clear()
        txn.dirty_counters.clear()
        txn.index.clear()
