"""``GET query?q=`` and ``GET query/<locator>-<offset>``: SOQL results in batches.

As in "Query" and "Query More Results": ``{totalSize, done, records, nextRecordsUrl}``, the batch
size from ``Sforce-Query-Options: batchSize=N`` (200..2000, default 2000), the locator kept
server-side (here in memory, the oldest dropped past :data:`MAX_CURSORS`, then
``INVALID_QUERY_LOCATOR``). ``queryAll`` also returns deleted records.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.salesforce.records import Records
from pshub.sandboxes.salesforce.schema import SalesforceApiError, make_id
from pshub.sandboxes.salesforce.soql import parse
from pshub.sandboxes.salesforce.wire import json_response

_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
MAX_CURSORS = 200


class Cursors:
    """Open query locators: the rendered rows of a query and its batch size."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._open: OrderedDict[str, tuple[list[dict[str, Any]], int]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, rows: list[dict[str, Any]], batch: int) -> str:
        key = make_id("01g", self.state.next_id("query-locator"))
        with self._lock:
            self._open[key] = (rows, batch)
            while len(self._open) > MAX_CURSORS:
                self._open.popitem(last=False)
        return key

    def get(self, key: str) -> tuple[list[dict[str, Any]], int] | None:
        with self._lock:
            return self._open.get(key)


def add_query_routes(
    router: APIRouter, records: Records, cursors: Cursors, path: str, include_deleted: bool
) -> None:
    @router.get(f"/{path}", name=path)
    def query(version: str, request: Request, q: str = "") -> Response:
        if not q.strip():
            raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        parsed = parse(q)
        found = parsed.run(records.rows(parsed.sobject, include_deleted=include_deleted))
        if not parsed.fields:
            return json_response({"totalSize": len(found), "done": True, "records": []})
        names = [f.name for f in parsed.fields]
        rows = [records.render(parsed.sobject, r, version, names) for r in found]
        match = _BATCH.search(request.headers.get("sforce-query-options", ""))
        batch = min(2000, max(200, int(match.group(1)))) if match else 2000
        return _page(cursors, path, version, rows, 0, batch)

    @router.get(f"/{path}/{{locator}}", name=f"{path}_more")
    def more(locator: str, version: str) -> Response:
        key, _, offset = locator.rpartition("-")
        cursor = cursors.get(key)
        if cursor is None or not offset.isdigit():
            raise SalesforceApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, batch = cursor
        return _page(cursors, path, version, rows, int(offset), batch, key)


def _page(
    cursors: Cursors,
    path: str,
    version: str,
    rows: list[dict[str, Any]],
    offset: int,
    batch: int,
    key: str | None = None,
) -> Response:
    end = offset + batch
    body: dict[str, Any] = {
        "totalSize": len(rows),
        "done": end >= len(rows),
        "records": rows[offset:end],
    }
    if end < len(rows):
        key = key or cursors.open(rows, batch)
        body["nextRecordsUrl"] = f"/services/data/v{version}/{path}/{key}-{end}"
    return json_response(body)
