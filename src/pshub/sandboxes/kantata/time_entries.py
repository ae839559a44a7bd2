"""Time entries: ``/api/v1/time_entries`` list, create (also in bulk), show, update, delete.

Built to the vendor's ``mavenlink-time-entries-api-openapi.yml``: create needs
``workspace_id``, ``date_performed`` and ``time_in_minutes``; ``user_id`` defaults to the
caller; ``billable`` defaults to the story's flag, else true; ``role_id`` to the user's default
role, whose rates fill ``rate_in_cents``/``cost_rate_in_cents``; bulk create takes
``{"time_entries": [...]}`` up to 100; ``DELETE /time_entries?ids=`` deletes up to 100, all or
nothing. ``approved`` is true while the entry is on an approved timesheet submission; an entry
on a pending or approved submission is locked (edits and deletes answer 422). Every change
writes a ``time_entry:created|updated|deleted`` subscribed event in the same transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import events, refs, roles, sql, time_store
from pshub.sandboxes.kantata import stories as st
from pshub.sandboxes.kantata import users as us
from pshub.sandboxes.kantata import workspaces as ws
from pshub.sandboxes.kantata.common import base_unit, collection_route, read_json, unwrap
from pshub.sandboxes.kantata.envelope import (
    Envelope,
    Paging,
    check_date,
    check_int,
    check_text,
    csv,
    now_iso,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, KantataError, not_found, system_error

KEY = "time_entries"
MAX_MINUTES = 1440  # one entry cannot exceed the day
LOCKED = "Time entry is locked: it is on a submitted or approved timesheet"
_WRITABLE = ("date_performed", "time_in_minutes", "billable", "notes", "rate_in_cents")


def reserve_ids(state: SandboxState, count: int, start: int = 800001) -> int:
    """Reserve ``count`` consecutive ids; returns the first (one counter write, any count)."""
    first = state.next_id(KEY, start=start)
    if count > 1:
        sql.execute(state, "UPDATE counters SET n = n + ? WHERE name = ?", (count - 1, KEY))
    return first


def _check_refs(
    state: SandboxState, errors: FieldErrors, body: dict[str, Any], workspace_id: str | None
) -> None:
    if body.get("story_id") is not None:
        story = state.get(st.COLLECTION, str(body["story_id"]))
        if story is None or story.get("deleted_at") or story["workspace_id"] != workspace_id:
            errors.add("story_id", "story must exist in the time entry's workspace")
    if body.get("user_id") is not None and state.get(us.COLLECTION, str(body["user_id"])) is None:
        errors.add("user_id", "user not found")
    if body.get("role_id") is not None and str(body["role_id"]) not in roles.ROLES:
        errors.add("role_id", "role not found")


def validate(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> tuple[FieldErrors, dict[str, Any] | None]:
    errors = FieldErrors()
    wid = body.get("workspace_id", current["workspace_id"] if current else None)
    workspace = state.get(ws.COLLECTION, str(wid)) if wid is not None else None
    if workspace is None:
        errors.add(
            "workspace_id", "Workspace can't be blank" if wid is None else "workspace not found"
        )
    if current is None and body.get("date_performed") is None:
        errors.add("date_performed", "date_performed can't be blank")
    check_date(errors, body, "date_performed")
    if current is None and body.get("time_in_minutes") is None:
        errors.add("time_in_minutes", "time_in_minutes can't be blank")
    check_int(errors, body, "time_in_minutes", minimum=0)
    minutes = body.get("time_in_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > MAX_MINUTES:
        errors.add(
            "time_in_minutes", f"time_in_minutes must be less than or equal to {MAX_MINUTES}"
        )
    check_int(errors, body, "rate_in_cents", minimum=0)
    check_text(errors, body, "notes")
    if "billable" in body and not isinstance(body["billable"], bool):
        errors.add("billable", "billable must be true or false")
    _check_refs(state, errors, body, workspace["id"] if workspace else None)
    refs.check(errors, body)
    return errors, workspace


def build(
    state: SandboxState,
    body: dict[str, Any],
    current: dict[str, Any] | None,
    workspace: dict[str, Any],
    new_id: int | None = None,
) -> dict[str, Any]:
    """The stored record after applying ``body`` (validated) to ``current`` or a new entry."""
    stamp = now_iso()
    if current is None:
        user_id = str(body.get("user_id") or us.ME_ID)
        role_id = str(body.get("role_id") or roles.default_role(state.get(us.COLLECTION, user_id)))
        rate, cost = roles.rates(role_id)
        story = state.get(st.COLLECTION, str(body["story_id"])) if body.get("story_id") else None
        record: dict[str, Any] = {
            "id": str(new_id or reserve_ids(state, 1)),
            "user_id": user_id,
            "role_id": role_id,
            "rate_in_cents": rate,
            "cost_rate_in_cents": cost,
            "billable": bool(story.get("billable", True)) if story else True,
            "notes": "",
            "approved": False,
            "taxable": False,
            "is_invoiced": False,
            "created_at": stamp,
        }
    else:
        record = dict(current)
    for name in _WRITABLE:
        if body.get(name) is not None:
            record[name] = body[name]
    for name in ("story_id", "user_id", "role_id"):
        if body.get(name) is not None:
            record[name] = str(body[name])
    currency = str(workspace.get("currency") or "USD")
    record.update(
        workspace_id=str(workspace["id"]),
        time_in_minutes=int(record["time_in_minutes"]),
        rate_in_cents=int(record["rate_in_cents"]),
        currency=currency,
        currency_symbol=currency,
        currency_base_unit=base_unit(currency),
        updated_at=stamp,
    )
    return record


def payload(record: dict[str, Any]) -> dict[str, Any]:
    """The tracked properties an event carries: the record without submission pointers."""
    return {
        k: v for k, v in record.items() if k not in ("active_submission_id", "recent_submission_id")
    }


def save(state: SandboxState, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Store the record and its change event (call inside a transaction)."""
    time_store.put(state, record)
    action = "created" if previous is None else "updated"
    events.emit(
        state,
        f"time_entry:{action}",
        record["id"],
        current=payload(record),
        previous=payload(previous) if previous else None,
        workspace_id=record["workspace_id"],
        stamp=record["updated_at"],
    )


def _write(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    if current is not None and current.get("active_submission_id"):
        raise _locked()
    errors, workspace = validate(state, body, current)
    errors.raise_if_any()
    assert workspace is not None  # validate() reported a missing workspace
    record = build(state, body, current, workspace)
    save(state, record, current)
    refs.attach(state, "TimeEntry", record["id"], body.get("external_reference"))
    return record


def _locked() -> KantataError:
    return KantataError(422, [{"type": "validation", "message": LOCKED, "field": "base"}])


def destroy(state: SandboxState, ids: list[str]) -> None:
    """Delete entries (all or nothing) with their ``time_entry:deleted`` events."""
    found = {r["id"]: r for r in time_store.load_many(state, ids)}
    for entry_id in ids:
        record = found.get(entry_id)
        if record is None:
            raise not_found("TimeEntry", entry_id)
        if record.get("active_submission_id"):
            raise _locked()
    for record in found.values():
        time_store.remove(state, record["id"])
        events.emit(
            state,
            "time_entry:deleted",
            record["id"],
            current=None,
            previous=payload(record),
            workspace_id=record["workspace_id"],
        )


def _workspace_sets(state: SandboxState) -> tuple[set[str], set[str]]:
    """(archived workspace ids, ids of workspaces that do not require time approvals)."""
    every = state.all(ws.COLLECTION)
    archived = {w["id"] for w in every if w.get("archived")}
    return archived, {w["id"] for w in every if not w.get("require_time_approvals")}


def _ref_filter(state: SandboxState, flt: time_store.Filter, query: dict[str, str]) -> None:
    """The positive external-reference filters, as an id list (references are few)."""
    if not any(k.startswith("external_reference_") for k in query):
        return
    index = refs.index(state, "TimeEntry")
    ids = [int(sid) for (_, sid), attached in index.items() if refs.matches(attached, query)]
    flt.add(f"id IN ({sql.placeholders(len(ids))})" if ids else "0", *ids)


def envelope(state: SandboxState, env: Envelope, include: list[str]) -> dict[str, Any]:
    from pshub.sandboxes.kantata import submissions  # a cycle: submissions update entries

    stored = list(env.records)
    env.records = [time_store.public(r, include) for r in stored]
    if "workspace" in include:
        env.sideload(
            ws.COLLECTION,
            [
                w
                for i in sorted({r["workspace_id"] for r in stored})
                if (w := state.get(ws.COLLECTION, i))
            ],
        )
    if "user" in include:
        env.sideload(
            us.COLLECTION,
            [
                u
                for i in sorted({r["user_id"] for r in stored})
                if (u := state.get(us.COLLECTION, i))
            ],
        )
    if "story" in include:
        ids = sorted({r["story_id"] for r in stored if r.get("story_id")})
        env.sideload(st.COLLECTION, [s for i in ids if (s := state.get(st.COLLECTION, i))])
    if "role" in include:
        env.sideload(roles.COLLECTION, roles.load(state, sorted({r["role_id"] for r in stored})))
    for name in ("active_submission", "recent_submission"):
        if name in include:
            ids = sorted({r[f"{name}_id"] for r in stored if r.get(f"{name}_id")})
            env.sideload("timesheet_submissions", submissions.TIME.load(state, ids))
    if "external_references" in include:
        index = refs.index(state, "TimeEntry")
        for record in env.records:
            attached = index[("TimeEntry", record["id"])]
            record["external_reference_ids"] = [r["id"] for r in attached]
            env.sideload("external_references", attached)
    return env.body()


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_entries(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        archived, open_ws = _workspace_sets(state)
        flt = time_store.Filter(query, archived, open_ws)
        _ref_filter(state, flt, query)
        paging = Paging.from_query(query)
        count, found = time_store.page(
            state, flt, query.get("order"), paging.per_page, (paging.page - 1) * paging.per_page
        )
        return envelope(state, Envelope(KEY, count, paging, found), csv(query.get("include")))

    async def create_entries(request: Request) -> dict[str, Any]:
        items = unwrap(await read_json(request), "time_entry", KEY, limit=100)
        with state.transaction():
            for item in items:  # a bulk create is all or nothing
                validate(state, item, None)[0].raise_if_any()
            created = [_write(state, item, None) for item in items]
        return envelope(state, single(KEY, created), csv(request.query_params.get("include")))

    def _load(ref: str) -> dict[str, Any]:
        record = time_store.get(state, strip_json(ref))
        if record is None:
            raise not_found("TimeEntry", strip_json(ref))
        return record

    async def show_entry(ref: str, request: Request) -> dict[str, Any]:
        include = csv(request.query_params.get("include"))
        return envelope(state, single(KEY, [_load(ref)]), include)

    async def update_entry(ref: str, request: Request) -> dict[str, Any]:
        item = unwrap(await read_json(request), "time_entry", KEY, limit=1)[0]
        with state.transaction():
            record = _write(state, item, _load(ref))
        return envelope(state, single(KEY, [record]), csv(request.query_params.get("include")))

    async def delete_entry(ref: str) -> Response:
        with state.transaction():
            destroy(state, [strip_json(ref)])
        return Response(status_code=204)

    async def delete_entries(request: Request) -> Response:
        body = await read_json(request)
        ids = csv(request.query_params.get("ids") or str(body.get("ids") or ""))
        if not ids:
            raise system_error(400, "param is missing or the value is empty: ids")
        if len(ids) > 100:
            raise system_error(422, "at most 100 time entries can be deleted at once")
        with state.transaction():
            destroy(state, ids)
        return Response(status_code=204)

    collection_route(api, "/api/v1/time_entries", list_entries, "GET")
    collection_route(api, "/api/v1/time_entries", create_entries, "POST")
    collection_route(api, "/api/v1/time_entries", delete_entries, "DELETE")
    api.add_api_route("/api/v1/time_entries/{ref}", show_entry, methods=["GET"])
    api.add_api_route("/api/v1/time_entries/{ref}", update_entry, methods=["PUT"])
    api.add_api_route("/api/v1/time_entries/{ref}", delete_entry, methods=["DELETE"])
    return api
