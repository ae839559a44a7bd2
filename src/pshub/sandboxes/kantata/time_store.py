"""Time entries in their own indexed table (see :mod:`.sql`): store, load, filter, page.

The JSON ``body`` is the record; the columns beside it copy the fields the list filters and
orders by, so a page of one workspace's entries is an index range, not a scan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import sql
from pshub.sandboxes.kantata.envelope import csv, parse_bool
from pshub.sandboxes.kantata.errors import FieldErrors, system_error

TABLE = "kantata_time_entries"
HIDDEN = ("role_id", "active_submission_id", "recent_submission_id")  # only with their include
_ORDERS = {
    f"{name}:{d}": f" ORDER BY {name} {d.upper()}, id {d.upper()}"
    for name in ("created_at", "date_performed", "updated_at")
    for d in ("asc", "desc")
}
_INSERT = (
    f"INSERT OR REPLACE INTO {TABLE}(id, workspace_id, user_id, story_id, date_performed,"
    " approved, billable, submission_id, created_at, updated_at, body)"
    " VALUES(?,?,?,?,?,?,?,?,?,?,?)"
)


def row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """Column values of one record (also used by the bulk seeder's executemany)."""
    story = record.get("story_id")
    submission = record.get("active_submission_id")
    return (
        int(record["id"]),
        int(record["workspace_id"]),
        int(record["user_id"]),
        int(story) if story else None,
        record["date_performed"],
        int(bool(record.get("approved"))),
        int(bool(record.get("billable"))),
        int(submission) if submission else None,
        record["created_at"],
        record["updated_at"],
        json.dumps(record, sort_keys=True),
    )


def put(state: SandboxState, record: Mapping[str, Any]) -> None:
    sql.execute(state, _INSERT, row(record))


def put_many(state: SandboxState, records: Sequence[Mapping[str, Any]]) -> None:
    sql.execute_many(state, _INSERT, [row(r) for r in records])


def remove(state: SandboxState, entry_id: str) -> None:
    sql.execute(state, f"DELETE FROM {TABLE} WHERE id = ?", (int(entry_id),))


def load_many(state: SandboxState, ids: Sequence[str]) -> list[dict[str, Any]]:
    numbers = [int(i) for i in ids if str(i).isdigit()]
    if not numbers:
        return []
    found = sql.rows(
        state,
        f"SELECT body FROM {TABLE} WHERE id IN ({sql.placeholders(len(numbers))}) ORDER BY id",
        numbers,
    )
    return [json.loads(r[0]) for r in found]


def get(state: SandboxState, entry_id: str) -> dict[str, Any] | None:
    found = load_many(state, [entry_id])
    return found[0] if found else None


def by_submission(state: SandboxState, submission_id: str) -> list[dict[str, Any]]:
    found = sql.rows(
        state,
        f"SELECT body FROM {TABLE} WHERE submission_id = ? ORDER BY id",
        (int(submission_id),),
    )
    return [json.loads(r[0]) for r in found]


def public(record: Mapping[str, Any], include: Sequence[str]) -> dict[str, Any]:
    """The record as the API shows it: association ids only when their include is asked."""
    shown = {k: v for k, v in record.items() if k not in HIDDEN}
    for name, association in (
        ("role_id", "role"),
        ("active_submission_id", "active_submission"),
        ("recent_submission_id", "recent_submission"),
    ):
        if association in include and record.get(name):
            shown[name] = record[name]
    return shown


def _between(errors: FieldErrors, value: str, name: str) -> tuple[str | None, str | None]:
    start, sep, end = value.partition(":")
    try:
        for part in (start, end):
            if part:
                date.fromisoformat(part)
    except ValueError:
        errors.add(name, f"{name} must be two dates as YYYY-MM-DD:YYYY-MM-DD")
        return None, None
    if not sep:
        errors.add(name, f"{name} must be two dates as YYYY-MM-DD:YYYY-MM-DD")
    return start or None, end or None


def _instant(errors: FieldErrors, value: str, name: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.add(name, f"{name} must be a datetime in ISO 8601 format")
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


class Filter:
    """Builds the WHERE clause of ``GET /time_entries`` from the vendor's filter parameters."""

    def __init__(
        self, query: Mapping[str, str], hidden_workspaces: set[str], open_workspaces: set[str]
    ):
        self.clauses: list[str] = []
        self.params: list[Any] = []
        self.errors = FieldErrors()
        self._build(query, hidden_workspaces, open_workspaces)
        self.errors.raise_if_any()

    def add(self, clause: str, *values: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(values)

    def _ids(self, column: str, value: str | None, name: str) -> None:
        values = csv(value)
        if not values:
            return
        if not all(v.isdigit() for v in values):
            self.errors.add(name, f"{name} must be a comma-separated list of ids")
            return
        self.add(f"{column} IN ({sql.placeholders(len(values))})", *map(int, values))

    def _build(self, query: Mapping[str, str], hidden: set[str], open_ws: set[str]) -> None:
        self._ids("id", query.get("only"), "only")
        self._ids("workspace_id", query.get("workspace_id"), "workspace_id")
        self._ids("workspace_id", query.get("workspace_ids"), "workspace_ids")
        self._ids("user_id", query.get("with_user_ids"), "with_user_ids")
        self._ids("user_id", query.get("created_by"), "created_by")
        self._ids("submission_id", query.get("with_timesheet_id"), "with_timesheet_id")
        if (billable := parse_bool(query.get("billable"))) is not None:
            self.add("billable = ?", int(billable))
        if "approved" in query:  # "always processed as true": approved, or approvals not required
            marks = sql.placeholders(len(open_ws)) if open_ws else "NULL"
            self.add(f"(approved = 1 OR workspace_id IN ({marks}))", *map(int, open_ws))
        if (active := parse_bool(query.get("in_active_submission"))) is not None:
            self.add("submission_id IS NOT NULL" if active else "submission_id IS NULL")
        if value := query.get("date_performed_between"):
            start, end = _between(self.errors, value, "date_performed_between")
            if start:
                self.add("date_performed >= ?", start)
            if end:
                self.add("date_performed <= ?", end)
        for name, column, op in (
            ("updated_after", "updated_at", ">"),
            ("updated_before", "updated_at", "<"),
            ("created_after", "created_at", ">"),
            ("created_before", "created_at", "<"),
        ):
            if query.get(name) and (moment := _instant(self.errors, query[name], name)):
                self.add(f"{column} {op} ?", moment)
        if hidden and not parse_bool(query.get("from_archived_workspaces")):
            self.add(f"workspace_id NOT IN ({sql.placeholders(len(hidden))})", *map(int, hidden))

    def where(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def page(
    state: SandboxState, flt: Filter, order_spec: str | None, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """(matching count, this page's records)."""
    order = _ORDERS.get(order_spec or "date_performed:desc")
    if order is None:
        raise system_error(400, f"order: {order_spec} is not a valid sort for time entries")
    where = flt.where()
    with sql.locked(state) as db:
        count = int(db.execute(f"SELECT COUNT(*) FROM {TABLE}{where}", flt.params).fetchone()[0])
        found = db.execute(
            f"SELECT body FROM {TABLE}{where}{order} LIMIT ? OFFSET ?", [*flt.params, limit, offset]
        ).fetchall()
    return count, [json.loads(r[0]) for r in found]


def max_id(state: SandboxState) -> int:
    return int(sql.rows(state, f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}")[0][0])
