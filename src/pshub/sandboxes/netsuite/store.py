"""Record storage for the NetSuite sandbox: validated writes, external-id index, rendering.

Records live in :class:`~pshub.sandboxes.base.SandboxState`, one collection per record type
(``customer``, ``job`` ...), keyed by internal id; ``_eid.<type>`` maps external ids to internal
ids. Rendering (NetSuite Help "Getting a Record Instance", "Collection Paging") is
:mod:`.render`. Reads by type and by indexed field go through :mod:`.index`, so no request
scans a whole collection except a ``q`` filter on a field that is not indexed.

Every write runs in a store transaction (:meth:`RecordStore.batch`; one per request, or one
per async job): it holds the state lock, and its writes are buffered and applied in bulk just
before COMMIT, its reads of records without sublists memoised (see :mod:`.persist`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.netsuite import render
from pshub.sandboxes.netsuite.errors import ErrorDetail, NsError
from pshub.sandboxes.netsuite.index import RecordIndex
from pshub.sandboxes.netsuite.persist import Docs, Txn, decode
from pshub.sandboxes.netsuite.records import (
    REGISTRY,
    RecordType,
    RuleContext,
    check_fields,
    check_record,
)

FIRST_ENTITY_ID = 101
MAX_PAGE = 1000


def _index(rtype: str) -> str:
    return f"_eid.{rtype}"


def _memoised(collection: str) -> bool:
    """Reads kept for the transaction: not records with sublists (lines are edited in place)."""
    kind = REGISTRY.get(collection)
    return kind is None or not kind.has_sublists


class _Local(threading.local):
    txn: Txn | None = None  # the thread's open transaction


def _unread(txn: Txn, key: tuple[str, str]) -> bool:
    """Whether the transaction knows nothing of the document yet (SQL has its value)."""
    return key not in txn.memo and key not in txn.docs and key not in txn.gone


class RecordStore:
    """Reads and validated writes of NetSuite records, atomic per request."""

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.clock = clock
        self.index = RecordIndex(state)
        self.docs = Docs(state, self.index)
        self._local = _Local()  # .txn: this thread's open transaction
        self._stamp: tuple[int, str] = (-1, "")

    def _txn(self) -> Txn | None:
        return self._local.txn

    @contextmanager
    def batch(self) -> Iterator[Txn]:
        """One transaction for many writes (an async job, or one request's write).

        It holds the state lock throughout, so no other thread writes (or reads) while it
        lives; its buffer and memo are this thread's. Nested blocks join the outer one.
        """
        txn = self._txn()
        if txn is not None:
            yield txn
            return
        with self.state.transaction():
            txn = self._local.txn = Txn()
            try:
                yield txn
                self.docs.flush(txn)
            finally:
                self._local.txn = None

    def flush(self) -> None:
        """Apply the open transaction's pending writes, before a read that SQL answers."""
        txn = self._txn()
        if txn is not None:
            self.docs.flush(txn)

    # -- reads -------------------------------------------------------------------------
    def get(self, rtype: str, rid: str) -> dict[str, Any] | None:
        txn = self._local.txn
        if txn is None:
            return self.docs.get(rtype, rid)
        key = (rtype, rid)
        memo = txn.memo
        if key in memo:
            return memo[key]
        text = txn.docs.get(key)
        found: dict[str, Any] | None
        if text is not None:
            found = decode(text)
        elif key in txn.gone:
            return None
        else:
            found = self.docs.get(rtype, rid)
        if _memoised(rtype):
            memo[key] = found
        return found

    def prefetch(self, rtype: RecordType, external_ids: list[Any]) -> None:
        """Read the records these external ids name (and learn which are new) in two queries,
        into the open transaction's memo (a batch upsert's job); a no-op outside one."""
        txn = self._txn()
        if txn is None or not _memoised(rtype.name):
            return
        eid_type = _index(rtype.name)
        named = dict.fromkeys(e for e in external_ids if isinstance(e, str) and e)
        eids = [e for e in named if _unread(txn, (eid_type, e))]
        entries = self.docs.get_many(eid_type, eids)
        rids = [str(entry["id"]) for entry in entries.values()]
        records = self.docs.get_many(rtype.name, [r for r in rids if _unread(txn, (rtype.name, r))])
        for eid in eids:
            txn.memo[(eid_type, eid)] = entries.get(eid)
        for rid, stored in records.items():
            txn.memo[(rtype.name, rid)] = stored

    def find(self, rtype: str, **equals: Any) -> list[dict[str, Any]]:
        """Records whose fields equal the values; an index lookup when a field is indexed."""
        self.flush()
        kind = REGISTRY.get(rtype)
        indexed = [k for k in equals if kind is not None and k in kind.indexed()]
        if not indexed:
            return self.state.find(rtype, **equals)
        found = (
            self.get(rtype, rid) for rid in self.index.ids(rtype, indexed[0], equals[indexed[0]])
        )
        return [r for r in found if r and all(r.get(k) == v for k, v in equals.items())]

    def now(self) -> str:
        second, stamp = int(self.clock()), self._stamp
        if stamp[0] != second:  # formatted once per second, not once per record
            stamp = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            self._stamp = stamp
        return stamp[1]

    def by_external_id(self, rtype: str, eid: str) -> dict[str, Any] | None:
        entry = self.get(_index(rtype), eid)
        return None if entry is None else self.get(rtype, entry["id"])

    def resolve(self, rtype: RecordType, key: str) -> dict[str, Any]:
        """The record addressed by ``{id}`` or ``eid:{externalId}``, or a 404."""
        if key.startswith("eid:"):
            record = self.by_external_id(rtype.name, key[4:])
        elif key.isdigit():
            record = self.get(rtype.name, key)
        else:
            raise NsError.one(
                400,
                "INVALID_ID",
                f"The record instance ID '{key}' is not valid. "
                "Provide a numeric internal ID or eid:<external ID>.",
                url_path=key,
            )
        if record is None:
            raise NsError.one(
                404,
                "NONEXISTENT_ID",
                "The record instance does not exist. Provide a valid record instance ID.",
                url_path=key,
            )
        return record

    # -- writes ------------------------------------------------------------------------
    def write(
        self,
        rtype: RecordType,
        body: dict[str, Any],
        existing: dict[str, Any] | None = None,
        *,
        eid_owner_known: bool = False,
    ) -> str:
        """Create (``existing`` None) or update a record; returns its internal id.

        ``eid_owner_known``: the caller looked the body's external id up and found
        ``existing`` (or nothing), so no other record can hold it.
        """
        values, errors = check_fields(rtype, body)
        if "id" in body:
            errors.append(
                ErrorDetail(
                    "Internal ID values cannot be set in the request body.",
                    "INVALID_CONTENT",
                    path="id",
                )
            )
        if errors:
            raise NsError(400, errors)
        txn = self._txn()
        if txn is not None:
            return self._merge(txn, rtype, values, existing, eid_owner_known)
        with self.batch() as txn:
            return self._merge(txn, rtype, values, existing, eid_owner_known)

    def _merge(
        self,
        txn: Txn,
        rtype: RecordType,
        values: dict[str, Any],
        existing: dict[str, Any] | None,
        eid_owner_known: bool,
    ) -> str:
        """The checked values over the stored record, defaulted, checked, saved."""
        record = dict(existing or {})
        for name, value in values.items():
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        for fill in rtype.defaults:
            fill(record, self)
        rid = existing["id"] if existing else None
        problems = [e for g in rtype.guards if existing for e in g(existing, record)]
        if problems:
            raise NsError(400, problems)
        problems = check_record(RuleContext(rtype, record, rid, self))
        if not eid_owner_known:
            problems += self._external_id_clash(rtype, record, rid)
        if problems:
            raise NsError(400, problems)
        return self._save(txn, rtype, record, existing)

    def upsert(self, rtype: RecordType, eid: str, body: dict[str, Any]) -> tuple[str, bool]:
        """PUT eid:{externalId}: update the record with that external id, or create it."""
        if body.get("externalId", eid) != eid:
            raise NsError.one(
                400,
                "INVALID_CONTENT",
                "The external ID in the request body does not match the external ID in the URL.",
                path="externalId",
            )
        if self._txn() is None:
            with self.batch():
                return self.upsert(rtype, eid, body)
        existing = self.by_external_id(rtype.name, eid)
        rid = self.write(rtype, {**body, "externalId": eid}, existing, eid_owner_known=True)
        return rid, existing is None

    def delete(self, rtype: RecordType, record: dict[str, Any]) -> None:
        with self.batch() as txn:
            if self._has_dependents(rtype.name, record["id"]):
                raise NsError.one(
                    400,
                    "USER_ERROR",
                    "This record cannot be deleted because it has dependent records.",
                )
            txn.delete((rtype.name, record["id"]))
            txn.reindex(rtype.name, record["id"], (True, []))
            if record.get("externalId"):
                txn.delete((_index(rtype.name), record["externalId"]))

    def seed(self, rtype: RecordType, records: list[dict[str, Any]]) -> None:
        """Put fixed records (lists such as subsidiaries) in place, unvalidated."""
        with self.batch() as txn:
            for record in records:
                if self.get(rtype.name, record["id"]) is None:
                    txn.put((rtype.name, record["id"]), record)

    def _next_id(self, txn: Txn, sequence: str) -> str:
        """The sequence's next internal id (read once per transaction, written at its end)."""
        if sequence not in txn.counters:
            txn.counters[sequence] = self.docs.counter(sequence)
        last = txn.counters[sequence]
        value = FIRST_ENTITY_ID if last is None else last + 1
        txn.counters[sequence] = value
        txn.dirty_counters.add(sequence)
        return str(value)

    def _save(
        self, txn: Txn, rtype: RecordType, record: dict[str, Any], existing: dict[str, Any] | None
    ) -> str:
        now = self.now()
        if existing is None:
            record["id"] = self._next_id(txn, rtype.sequence)
            record["dateCreated"] = now
            if rtype.extra.get("tran_prefix"):
                record["tranId"] = f"{rtype.extra['tran_prefix']}{record['id']}"
        record["lastModifiedDate"] = now
        rid = record["id"]
        old_eid, eid = (existing or {}).get("externalId"), record.get("externalId")
        if old_eid and old_eid != eid:
            txn.delete((_index(rtype.name), old_eid))
        if eid and eid != old_eid:  # an unchanged external id already maps to this record
            txn.put((_index(rtype.name), eid), {"id": rid})
        txn.put((rtype.name, rid), record)
        change = self.index.change(rtype.name, rid, record, rtype.indexed(), existing or {})
        if change is not None:
            txn.reindex(rtype.name, rid, change)
        for effect in rtype.after_save:
            effect(record, existing, self)
        return str(rid)

    def replace(self, rtype: str, record: dict[str, Any]) -> None:
        """Store a record computed by the sandbox itself (balances, statuses), unvalidated."""
        record["lastModifiedDate"] = self.now()
        with self.batch() as txn:
            txn.put((rtype, record["id"]), record)
            change = self.index.change(rtype, record["id"], record, REGISTRY[rtype].indexed())
            if change is not None:
                txn.reindex(rtype, record["id"], change)

    def _external_id_clash(
        self, rtype: RecordType, record: dict[str, Any], rid: str | None
    ) -> list[ErrorDetail]:
        eid = record.get("externalId")
        other = self.by_external_id(rtype.name, eid) if eid else None
        if other is None or other["id"] == rid:
            return []
        return [
            ErrorDetail(
                f"A {rtype.name} record with external ID {eid!r} already exists "
                f"(internal ID {other['id']}).",
                "USER_ERROR",
                path="externalId",
            )
        ]

    def _has_dependents(self, rtype: str, rid: str) -> bool:
        for other in REGISTRY.values():
            for spec in other.references():
                if spec.ref == rtype and self.find(other.name, **{spec.name: {"id": rid}}):
                    return True
        return False

    # -- rendering (see .render) -------------------------------------------------------
    def render(
        self, rtype: RecordType, record: dict[str, Any], base: str, *, expand: bool = False
    ) -> dict[str, Any]:
        """A record as GET returns it: links, scalar fields, references with refName."""
        return render.record(self, rtype, record, base, expand=expand)

    def page(
        self, rtype: RecordType, base: str, *, limit: int, offset: int, q: str | None
    ) -> dict[str, Any]:
        """One page of a collection: ``links, count, hasMore, items, offset, totalResults``."""
        return render.page(self, rtype, base, limit=limit, offset=offset, q=q)
