"""Records and collection pages as NetSuite's REST record service answers them.

Followed: NetSuite Help "Getting a Record Instance" and "Collection Paging": every record and
reference carries ``links``; references are ``{"id", "refName"}`` objects; sublists are a link
unless ``expandSubResources=true`` (then ``{"links", "items"}``). Fields whose name starts with
``_`` are the sandbox's bookkeeping and never rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pshub.sandboxes.netsuite.query import compile_query
from pshub.sandboxes.netsuite.records import REGISTRY, FieldSpec, RecordType, to_decimal

if TYPE_CHECKING:
    from pshub.sandboxes.netsuite.store import RecordStore


def record(
    store: RecordStore, rtype: RecordType, stored: dict[str, Any], base: str, *, expand: bool
) -> dict[str, Any]:
    """A record as GET returns it: links, scalar fields, references with refName."""
    href = _self(base, rtype.name, stored["id"])
    out: dict[str, Any] = {"links": [href]}
    for name, value in stored.items():
        spec = rtype.fields.get(name)
        if name.startswith("_"):
            continue
        if spec is not None and spec.kind == "sublist":
            link = {"rel": "self", "href": f"{href['href']}/{name}"}
            lines = value.get("items", []) if expand else None
            out[name] = {"links": [link]}
            if lines is not None:
                out[name]["items"] = [_line(store, spec, line, base) for line in lines]
            continue
        out[name] = _value(store, spec, value, base)
    return out


def _line(store: RecordStore, spec: FieldSpec, line: dict[str, Any], base: str) -> dict[str, Any]:
    return {k: _value(store, (spec.lines or {}).get(k), v, base) for k, v in line.items()}


def _value(store: RecordStore, spec: FieldSpec | None, value: Any, base: str) -> Any:
    if spec is not None and spec.ref and isinstance(value, dict):
        return _reference(store, spec.ref, value, base)
    if spec is not None and spec.kind == "decimal":
        return to_decimal(value)
    return value


def _reference(store: RecordStore, target: str, value: dict[str, str], base: str) -> dict[str, Any]:
    ref: dict[str, Any] = {"links": [_self(base, target, value["id"])], "id": value["id"]}
    found = store.get(target, value["id"])
    if found is not None:
        ref["refName"] = found.get(REGISTRY[target].ref_name, value["id"])
    return ref


def page(
    store: RecordStore, rtype: RecordType, base: str, *, limit: int, offset: int, q: str | None
) -> dict[str, Any]:
    """One page of a collection: ``links, count, hasMore, items, offset, totalResults``."""
    store.flush()
    if q:
        matches = compile_query(q, {"id", "externalId", "lastModifiedDate", *rtype.fields})
        records = [r for r in store.state.all(rtype.name) if matches(r)]
        total, window = len(records), records[offset : offset + limit]
    else:
        total = store.state.count(rtype.name)
        window = store.index.page(rtype.name, limit, offset)
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
