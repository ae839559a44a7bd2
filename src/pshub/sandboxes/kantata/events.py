"""Subscribed Events: ``GET /api/v1/subscribed_events``, the account's change feed.

Built to the vendor's ``mavenlink-events-api-openapi.yml`` (``SubscribedEvents__Models__
SubscribedEvent``): each event has ``event_type`` (``<subject>:created|updated|deleted``, as in
https://knowledge.kantata.com/hc/en-us/articles/4407962435227 "Subscribed Events Reference"),
``subject_type``/``subject_id``, ``user_id``, ``created_at``, ``subject_changed_at`` and, on
request (``optional_fields``), ``current_payload``, ``previous_payload`` and ``payload_changes``
as JSON strings. Filters: ``only``, ``event_types``, ``subject_type`` (+ ``subject_id``),
``user_ids``, ``created_after``/``created_before``, ``most_recent``,
``most_recent_by_event_type``; ``order`` is ``created_at:asc|desc`` (ties by id);
``include=subject`` adds ``subject_ref`` and sideloads the subject. Without any filter only the
last 9 days are returned, as documented.

Sandbox guarantees: an event is written in the same transaction as the change it records, and
the sandbox serialises write transactions, so event ids are strictly increasing in commit order
and an id is never visible before a smaller one. A reader that pages by id (``only=`` ranges,
which is how the pshub connector pages) therefore never skips an event, even when many share
one ``created_at`` second. Events are kept (no 9-day purge) so benchmarks can replay them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import sql
from pshub.sandboxes.kantata.common import collection_route
from pshub.sandboxes.kantata.envelope import Envelope, Paging, csv, now_iso, parse_bool
from pshub.sandboxes.kantata.errors import FieldErrors, system_error

KEY = "subscribed_events"
RETENTION = timedelta(days=9)
ACTOR_ID = 2001  # every sandbox token acts as the account administrator
OPTIONAL = ("current_payload", "previous_payload", "payload_changes")
_FILTERS = (
    "only",
    "event_types",
    "subject_type",
    "subject_id",
    "user_ids",
    "created_after",
    "created_before",
    "most_recent",
    "most_recent_by_event_type",
)
# subject_type -> (sideload key, loader of current records by id)
SubjectLoader = Callable[[SandboxState, list[str]], list[dict[str, Any]]]
_COLUMNS = (
    "id, created_at, event_type, subject_type, subject_id, user_id, workspace_id,"
    " current_payload, previous_payload"
)


def emit(
    state: SandboxState,
    event_type: str,
    subject_id: str | int,
    *,
    current: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None = None,
    workspace_id: str | None = None,
    stamp: str | None = None,
) -> int:
    """Record one change; call inside the transaction that makes the change."""
    subject_type = _SUBJECT_TYPES[event_type.split(":", 1)[0]]
    return sql.execute(
        state,
        "INSERT INTO kantata_events(created_at, event_type, subject_type, subject_id, user_id,"
        " workspace_id, current_payload, previous_payload) VALUES(?,?,?,?,?,?,?,?)",
        event_row(event_type, subject_type, subject_id, current, previous, workspace_id, stamp),
    )


def event_row(
    event_type: str,
    subject_type: str,
    subject_id: str | int,
    current: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
    workspace_id: str | None,
    stamp: str | None = None,
) -> tuple[Any, ...]:
    """The column values of one event (the bulk seeder inserts these directly)."""
    return (
        stamp or now_iso(),
        event_type,
        subject_type,
        int(subject_id),
        ACTOR_ID,
        workspace_id,
        _dump(current),
        _dump(previous),
    )


_SUBJECT_TYPES = {
    "time_entry": "TimeEntry",
    "expense": "Expense",
    "story": "Story",
    "workspace": "Workspace",
    "timesheet_submission": "TimesheetSubmission",
    "expense_report_submission": "ExpenseReportSubmission",
}


def _dump(payload: Mapping[str, Any] | None) -> str | None:
    return None if payload is None else json.dumps(payload, sort_keys=True, default=str)


def _parse_time(errors: FieldErrors, query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.add(name, f"{name} must be a datetime in ISO 8601 format")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _where(query: Mapping[str, str]) -> tuple[str, list[Any]]:
    errors = FieldErrors()
    clauses: list[str] = []
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        clauses.append(clause)
        params.extend(values)

    if only := csv(query.get("only")):
        add(f"id IN ({sql.placeholders(len(only))})", *_ints(errors, "only", only))
    if types := csv(query.get("event_types")):
        add(f"event_type IN ({sql.placeholders(len(types))})", *types)
    if query.get("subject_type"):
        add("subject_type = ?", query["subject_type"])
    if subjects := csv(query.get("subject_id")):
        if not query.get("subject_type"):
            errors.add("subject_type", "subject_type is required when filtering by subject_id")
        add(
            f"subject_id IN ({sql.placeholders(len(subjects))})",
            *_ints(errors, "subject_id", subjects),
        )
    if users := csv(query.get("user_ids")):
        add(f"user_id IN ({sql.placeholders(len(users))})", *_ints(errors, "user_ids", users))
    for name, op in (("created_after", ">"), ("created_before", "<")):
        if (moment := _parse_time(errors, query, name)) is not None:
            add(f"created_at {op} ?", moment)
    if not any(query.get(f) for f in _FILTERS):
        add("created_at >= ?", (datetime.now(UTC) - RETENTION).replace(microsecond=0).isoformat())
    _most_recent(errors, query, clauses)
    errors.raise_if_any()
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _most_recent(errors: FieldErrors, query: Mapping[str, str], clauses: list[str]) -> None:
    latest, by_type = (
        parse_bool(query.get("most_recent")),
        parse_bool(query.get("most_recent_by_event_type")),
    )
    if latest and by_type:
        errors.add("most_recent", "most_recent cannot be combined with most_recent_by_event_type")
        return
    group = "subject_type, subject_id" if latest else "subject_type, subject_id, event_type"
    if latest or by_type:
        inner = " AND ".join(clauses) or "1=1"
        clauses[:] = [f"id IN (SELECT MAX(id) FROM kantata_events WHERE {inner} GROUP BY {group})"]


def _ints(errors: FieldErrors, name: str, values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        errors.add(name, f"{name} must be a comma-separated list of ids")
        return []


def _order(spec: str | None) -> str:
    value = spec or "created_at:desc"
    if value not in ("created_at:asc", "created_at:desc"):
        raise system_error(
            400, f"order: {value} is not a valid sort (created_at:asc, created_at:desc)"
        )
    direction = "ASC" if value.endswith("asc") else "DESC"
    return f" ORDER BY created_at {direction}, id {direction}"


def _optional(request: Request) -> set[str]:
    wanted = {f for v in request.query_params.getlist("optional_fields") for f in csv(v)}
    wanted |= {f for v in request.query_params.getlist("optional_fields[]") for f in csv(v)}
    return wanted & set(OPTIONAL)


def _render(row: tuple[Any, ...], optional: set[str]) -> dict[str, Any]:
    ev_id, created, event_type, subject_type, subject_id, user_id, workspace_id, cur, prev = row
    record: dict[str, Any] = {
        "id": str(ev_id),
        "account_id": 1,
        "created_at": created,
        "subject_changed_at": created,
        "event_type": event_type,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "user_id": user_id,
    }
    if workspace_id is not None:
        record["context_workspace_id"] = str(workspace_id)
    payloads = {"current_payload": cur, "previous_payload": prev}
    for name in ("current_payload", "previous_payload"):
        if name in optional and payloads[name] is not None:
            record[name] = payloads[name]
    if "payload_changes" in optional:
        record["payload_changes"] = json.dumps(_changes(prev, cur), sort_keys=True)
    return record


def _changes(previous: str | None, current: str | None) -> dict[str, list[Any]]:
    before = json.loads(previous) if previous else {}
    after = json.loads(current) if current else {}
    names = sorted(set(before) | set(after))
    return {n: [before.get(n), after.get(n)] for n in names if before.get(n) != after.get(n)}


def router(state: SandboxState, subjects: Mapping[str, tuple[str, SubjectLoader]]) -> APIRouter:
    """``subjects``: subject_type -> (sideload key, loader) for ``include=subject``."""
    api = APIRouter()

    async def list_events(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        where, params = _where(query)
        paging = Paging.from_query(query)
        offset = (paging.page - 1) * paging.per_page
        with sql.locked(state) as db:
            count = int(
                db.execute(f"SELECT COUNT(*) FROM kantata_events{where}", params).fetchone()[0]
            )
            found = db.execute(
                f"SELECT {_COLUMNS} FROM kantata_events{where}{_order(query.get('order'))}"
                " LIMIT ? OFFSET ?",
                [*params, paging.per_page, offset],
            ).fetchall()
        optional = _optional(request)
        env = Envelope(KEY, count, paging, [_render(r, optional) for r in found])
        if "subject" in csv(query.get("include")):
            _sideload_subjects(state, env, subjects)
        return env.body()

    collection_route(api, "/api/v1/subscribed_events", list_events, "GET")
    return api


def _sideload_subjects(
    state: SandboxState, env: Envelope, subjects: Mapping[str, tuple[str, SubjectLoader]]
) -> None:
    wanted: dict[str, set[str]] = {}
    for record in env.records:
        wanted.setdefault(record["subject_type"], set()).add(str(record["subject_id"]))
    found: dict[tuple[str, str], str] = {}
    for subject_type, ids in wanted.items():
        if subject_type not in subjects:
            continue
        key, loader = subjects[subject_type]
        loaded = loader(state, sorted(ids))
        env.sideload(key, loaded)
        found.update({(subject_type, str(r["id"])): key for r in loaded})
    for record in env.records:
        ref_key = found.get((record["subject_type"], str(record["subject_id"])))
        if ref_key:  # the vendor sends null for a gone subject; the spec types it as an object
            record["subject_ref"] = {"id": str(record["subject_id"]), "key": ref_key}
