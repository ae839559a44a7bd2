"""Record storage for the NetSuite sandbox: validated writes, external-id index, rendering.

Records live in :class:`~pshub.sandboxes.base.SandboxState`, one collection per record type
(``customer``, ``job`` ...), keyed by internal id; ``_eid.<type>`` maps external ids to internal
ids. Rendering follows NetSuite Help "Getting a Record Instance" and "Collection Paging":
every record and reference carries ``links``; references are ``{"id", "refName"}`` objects;
sublists are a link unless ``expandSubResources=true`` (then ``{"links", "items"}``). Fields
whose name starts with ``_`` are the sandbox's bookkeeping and never rendered. Reads by type
and by indexed field go through :mod:`.index`, so no request scans a whole collection except
a ``q`` filter on a field that is not indexed.

An async job runs in :meth:`RecordStore.batch`: one transaction, holding the state lock, in
which reads of records without sublists (employees, customers, jobs, lists, time bills) are
memoised for the job's thread, so 100 time bills naming the same employee and project read
each once. Every write through the store drops the written record from the memo, and the memo
ends with the transaction (a rollback cannot leave it stale).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.netsuite.errors import ErrorDetail, NsError
from pshub.sandboxes.netsuite.index import RecordIndex
from pshub.sandboxes.netsuite.query import compile_query
from pshub.sandboxes.netsuite.records import (
    REGISTRY,
    FieldSpec,
    RecordType,
    RuleContext,
    check_fields,
    check_record,
    to_decimal,
)

FIRST_ENTITY_ID = 101
MAX_PAGE = 1000


def _index(rtype: str) -> str:
    return f"_eid.{rtype}"


class RecordStore:
    """Reads and validated writes of NetSuite records, atomic per request."""

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.clock = clock
        self.index = RecordIndex(state)
        self._local = threading.local()  # .memo: the running batch's reads, this thread only
        self._stamp: tuple[int, str] = (-1, "")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for many writes (an async job), with reads memoised inside it.

        The transaction holds the state lock throughout, so no other thread writes while the
        memo lives; the memo is this thread's and ends with the transaction.
        """
        with self.state.transaction():
            if getattr(self._local, "memo", None) is not None:  # nested: join the outer batch
                yield
                return
            self._local.memo = {}
            try:
                yield
            finally:
                self._local.memo = None

    # -- reads -------------------------------------------------------------------------
    def get(self, rtype: str, rid: str) -> dict[str, Any] | None:
        memo: dict[tuple[str, str], dict[str, Any] | None] | None = getattr(
            self._local, "memo", None
        )
        kind = REGISTRY.get(rtype)
        if memo is None or kind is None or kind.has_sublists:  # lines are edited in place
            return self.state.get(rtype, rid)
        key = (rtype, rid)
        if key not in memo:
            memo[key] = self.state.get(rtype, rid)
        return memo[key]

    def _forget(self, rtype: str, rid: str) -> None:
        memo = getattr(self._local, "memo", None)
        if memo is not None:
            memo.pop((rtype, rid), None)

    def find(self, rtype: str, **equals: Any) -> list[dict[str, Any]]:
        """Records whose fields equal the values; an index lookup when a field is indexed."""
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
        entry = self.state.get(_index(rtype), eid)
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
        with self.state.transaction():
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
            return self._save(rtype, record, existing)

    def upsert(self, rtype: RecordType, eid: str, body: dict[str, Any]) -> tuple[str, bool]:
        """PUT eid:{externalId}: update the record with that external id, or create it."""
        if body.get("externalId", eid) != eid:
            raise NsError.one(
                400,
                "INVALID_CONTENT",
                "The external ID in the request body does not match the external ID in the URL.",
                path="externalId",
            )
        with self.state.transaction():
            existing = self.by_external_id(rtype.name, eid)
            rid = self.write(rtype, {**body, "externalId": eid}, existing, eid_owner_known=True)
        return rid, existing is None

    def delete(self, rtype: RecordType, record: dict[str, Any]) -> None:
        with self.state.transaction():
            if self._has_dependents(rtype.name, record["id"]):
                raise NsError.one(
                    400,
                    "USER_ERROR",
                    "This record cannot be deleted because it has dependent records.",
                )
            self.state.delete(rtype.name, record["id"])
            self._forget(rtype.name, record["id"])
            self.index.drop(rtype.name, record["id"])
            if record.get("externalId"):
                self.state.delete(_index(rtype.name), record["externalId"])

    def seed(self, rtype: RecordType, records: list[dict[str, Any]]) -> None:
        """Put fixed records (lists such as subsidiaries) in place, unvalidated."""
        with self.state.transaction():
            for record in records:
                if self.get(rtype.name, record["id"]) is None:
                    self.state.put(rtype.name, record["id"], record)
                    self._forget(rtype.name, record["id"])

    def _save(
        self, rtype: RecordType, record: dict[str, Any], existing: dict[str, Any] | None
    ) -> str:
        now = self.now()
        if existing is None:
            record["id"] = str(self.state.next_id(rtype.sequence, start=FIRST_ENTITY_ID))
            record["dateCreated"] = now
            if rtype.extra.get("tran_prefix"):
                record["tranId"] = f"{rtype.extra['tran_prefix']}{record['id']}"
        record["lastModifiedDate"] = now
        old_eid, eid = (existing or {}).get("externalId"), record.get("externalId")
        if old_eid and old_eid != eid:
            self.state.delete(_index(rtype.name), old_eid)
        if eid and eid != old_eid:  # an unchanged external id already maps to this record
            self.state.put(_index(rtype.name), eid, {"id": record["id"]})
        self.state.put(rtype.name, record["id"], record)
        self._forget(rtype.name, record["id"])
        self.index.put(rtype.name, record["id"], record, rtype.indexed(), before=existing or {})
        for effect in rtype.after_save:
            effect(record, existing, self)
        return str(record["id"])

    def replace(self, rtype: str, record: dict[str, Any]) -> None:
        """Store a record computed by the sandbox itself (balances, statuses), unvalidated."""
        record["lastModifiedDate"] = self.now()
        self.state.put(rtype, record["id"], record)
        self._forget(rtype, record["id"])
        self.index.put(rtype, record["id"], record, REGISTRY[rtype].indexed())

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

    # -- rendering ---------------------------------------------------------------------
    def render(
        self, rtype: RecordType, record: dict[str, Any], base: str, *, expand: bool = False
    ) -> dict[str, Any]:
        """A record as GET returns it: links, scalar fields, references with refName."""
        href = _self(base, rtype.name, record["id"])
        out: dict[str, Any] = {"links": [href]}
        for name, value in record.items():
            spec = rtype.fields.get(name)
            if name.startswith("_"):
                continue
            if spec is not None and spec.kind == "sublist":
                link = {"rel": "self", "href": f"{href['href']}/{name}"}
                lines = value.get("items", []) if expand else None
                out[name] = {"links": [link]}
                if lines is not None:
                    out[name]["items"] = [self._line(spec, line, base) for line in lines]
                continue
            out[name] = self._value(spec, value, base)
        return out

    def _line(self, spec: FieldSpec, line: dict[str, Any], base: str) -> dict[str, Any]:
        return {k: self._value((spec.lines or {}).get(k), v, base) for k, v in line.items()}

    def _value(self, spec: FieldSpec | None, value: Any, base: str) -> Any:
        if spec is not None and spec.ref and isinstance(value, dict):
            return self._reference(spec.ref, value, base)
        if spec is not None and spec.kind == "decimal":
            return to_decimal(value)
        return value

    def _reference(self, target: str, value: dict[str, str], base: str) -> dict[str, Any]:
        ref: dict[str, Any] = {"links": [_self(base, target, value["id"])], "id": value["id"]}
        record = self.get(target, value["id"])
        if record is not None:
            ref["refName"] = record.get(REGISTRY[target].ref_name, value["id"])
        return ref

    def page(
        self, rtype: RecordType, base: str, *, limit: int, offset: int, q: str | None
    ) -> dict[str, Any]:
        """One page of a collection: ``links, count, hasMore, items, offset, totalResults``."""
        if q:
            matches = compile_query(q, {"id", "externalId", "lastModifiedDate", *rtype.fields})
            records = [r for r in self.state.all(rtype.name) if matches(r)]
            total, window = len(records), records[offset : offset + limit]
        else:
            total = self.state.count(rtype.name)
            window = self.index.page(rtype.name, limit, offset)
        items = [{"links": [_self(base, rtype.name, r["id"])], "id": r["id"]} for r in window]
        has_more = offset + limit < total
        return {
            "links": _page_links(base, rtype.name, limit, offset, total, q),
            "count": len(items),
            "hasMore": has_more,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }


def _self(base: str, rtype: str, rid: str) -> dict[str, str]:
    return {"rel": "self", "href": f"{base}/{rtype}/{rid}"}


def _page_links(
    base: str, rtype: str, limit: int, offset: int, total: int, q: str | None
) -> list[dict[str, str]]:
    def href(at: int) -> str:
        params = {"limit": limit, "offset": at, **({"q": q} if q else {})}
        return f"{base}/{rtype}?{urlencode(params)}"

    last = max(0, (total - 1) // limit * limit)
    links = [{"rel": "first", "href": href(0)}]
    if offset > 0:
        links.append({"rel": "prev", "href": href(max(0, offset - limit))})
    if offset + limit < total:
        links.append({"rel": "next", "href": href(offset + limit)})
    links += [{"rel": "last", "href": href(last)}, {"rel": "self", "href": href(offset)}]
    return links
