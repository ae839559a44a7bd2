"""Timesheet and expense report submissions and their resolutions (approve, reject, cancel).

``POST /api/v1/timesheet_approvals`` follows ``mavenlink-timesheet-approvals-api-openapi.yml``:
``{"resolution": {"submission_ids": [...], "description": "..."}}`` answers
``{"resolutions": [{id, type, description, target_type, target_id, user_id, account_id,
current, created_at, updated_at}]}``. Submissions follow the ``TimesheetSubmission`` /
``ExpenseReportSubmission`` schemas (``status`` pending/approved/rejected/cancelled,
``current_resolution_*``, ``start_date``/``end_date``). The routes that create a submission and
reject or cancel one (``/timesheet_submissions``, ``/timesheet_rejections``,
``/timesheet_cancellations`` and the ``expense_report_*`` equivalents) are not among the spec
files we hold; they take the same ``resolution`` body as approvals.

Approving sets ``approved`` on every entry of the submission; rejecting or cancelling a pending
or an approved submission (the way to un-approve) clears it and unlocks the entries. Each
changed entry gets an ``*:updated`` event stamped with the resolution's time, and the
submission a ``*_submission:created|updated`` event, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import events
from pshub.sandboxes.kantata import users as us
from pshub.sandboxes.kantata import workspaces as ws
from pshub.sandboxes.kantata.common import collection_route, read_json
from pshub.sandboxes.kantata.envelope import (
    Envelope,
    Paging,
    csv,
    now_iso,
    order,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, missing_param, not_found

Records = list[dict[str, Any]]
TRANSITIONS = {  # resolution type -> (statuses it applies to, new status)
    "approval": (("pending",), "approved"),
    "rejection": (("pending", "approved"), "rejected"),
    "cancellation": (("pending", "approved"), "cancelled"),
}
_PATHS = {"approval": "approvals", "rejection": "rejections", "cancellation": "cancellations"}


@dataclass(frozen=True)
class Kind:
    """One submission family and how to reach the entries it carries."""

    prefix: str  # "timesheet" / "expense_report"
    type_name: str
    ids_field: str
    load: Callable[[SandboxState, list[str]], Records]
    by_submission: Callable[[SandboxState, str], Records]
    save: Callable[[SandboxState, dict[str, Any], dict[str, Any] | None], None]
    store: Callable[[SandboxState, dict[str, Any]], None]  # write without an event
    cents: Callable[[dict[str, Any]], int]

    @property
    def collection(self) -> str:
        return f"{self.prefix}_submissions"

    def get(self, state: SandboxState, sid: str) -> dict[str, Any] | None:
        return state.get(self.collection, sid)

    def load_submissions(self, state: SandboxState, ids: list[str]) -> Records:
        return [s for i in ids if (s := state.get(self.collection, i)) is not None]


def _time_kind() -> Kind:
    from pshub.sandboxes.kantata import time_entries as te
    from pshub.sandboxes.kantata import time_store

    return Kind(
        prefix="timesheet",
        type_name="TimesheetSubmission",
        ids_field="time_entry_ids",
        load=lambda s, ids: time_store.load_many(s, ids),
        by_submission=time_store.by_submission,
        save=te.save,
        store=time_store.put,
        cents=lambda r: int(r["time_in_minutes"]) * int(r.get("rate_in_cents") or 0) // 60,
    )


def _expense_kind() -> Kind:
    from pshub.sandboxes.kantata import expenses as ex

    return Kind(
        prefix="expense_report",
        type_name="ExpenseReportSubmission",
        ids_field="expense_ids",
        load=ex.load,
        by_submission=lambda s, sid: s.find(ex.KEY, active_submission_id=sid),
        save=ex.save,
        store=lambda s, r: s.put(ex.KEY, r["id"], r),
        cents=lambda r: int(r["amount_in_cents"]),
    )


class _Lazy:
    """Resolves the kinds on first use (entry modules import this one)."""

    def __init__(self, factory: Callable[[], Kind]) -> None:
        self._factory = factory
        self._kind: Kind | None = None

    def __call__(self) -> Kind:
        if self._kind is None:
            self._kind = self._factory()
        return self._kind

    def load(self, state: SandboxState, ids: list[str]) -> Records:
        """Submissions as the API shows them (for sideloads)."""
        kind = self()
        return [_public(s, kind, []) for s in kind.load_submissions(state, ids)]


TIME = _Lazy(_time_kind)
EXPENSE = _Lazy(_expense_kind)


def submit(state: SandboxState, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
    """Create a pending submission of the given entries (inside a transaction)."""
    errors = FieldErrors()
    workspace = state.get(ws.COLLECTION, str(body.get("workspace_id") or ""))
    if workspace is None:
        errors.add("workspace_id", "workspace not found")
    ids = [str(i) for i in body.get(kind.ids_field) or []]
    entries = kind.load(state, ids)
    if not ids or len(entries) != len(set(ids)):
        errors.add(kind.ids_field, f"{kind.ids_field} must name existing entries")
    for entry in entries:
        if workspace is not None and entry["workspace_id"] != workspace["id"]:
            errors.add(kind.ids_field, f"entry {entry['id']} is not in workspace {workspace['id']}")
        if entry.get("active_submission_id"):
            errors.add(kind.ids_field, f"entry {entry['id']} is already submitted")
    errors.raise_if_any()
    assert workspace is not None
    stamp = now_iso()
    dates = sorted(str(e.get("date_performed") or e.get("date")) for e in entries)
    record: dict[str, Any] = {
        "id": str(state.next_id(kind.collection, start=60001)),
        "type": kind.type_name,
        "title": f"{kind.type_name} {dates[0]} - {dates[-1]}",
        "workspace_id": workspace["id"],
        "user_id": str(entries[0].get("user_id") or us.ME_ID),
        "start_date": dates[0],
        "end_date": dates[-1],
        "status": "pending",
        "comment": str(body.get("comment") or ""),
        "currency": workspace.get("currency", "USD"),
        "line_item_total_in_cents": sum(kind.cents(e) for e in entries),
        "entry_ids": sorted(e["id"] for e in entries),
        "created_at": stamp,
        "updated_at": stamp,
    }
    state.put(kind.collection, record["id"], record)
    for entry in entries:
        kind.store(
            state,
            {**entry, "active_submission_id": record["id"], "recent_submission_id": record["id"]},
        )
    _emit(state, kind, record, None)
    return record


def _emit(
    state: SandboxState, kind: Kind, record: dict[str, Any], previous: dict[str, Any] | None
) -> None:
    action = "created" if previous is None else "updated"
    events.emit(
        state,
        f"{kind.prefix}_submission:{action}",
        record["id"],
        current=_public(record, kind, ["time_entries"]),
        previous=_public(previous, kind, ["time_entries"]) if previous else None,
        workspace_id=record["workspace_id"],
        stamp=record["updated_at"],
    )


def resolve(state: SandboxState, kind: Kind, rtype: str, body: dict[str, Any]) -> Records:
    """Apply one resolution to each submission (all or nothing, inside a transaction)."""
    allowed, status = TRANSITIONS[rtype]
    ids = [str(i) for i in body.get("submission_ids") or []]
    errors = FieldErrors()
    found = [kind.get(state, i) for i in ids]
    if not ids:
        errors.add("submission_ids", "submission_ids can't be blank")
    for sid, sub in zip(ids, found, strict=True):
        if sub is None or sub["status"] not in allowed:
            errors.add("submission_ids", f"submission {sid} cannot take a {rtype} now")
    errors.raise_if_any()
    stamp = now_iso()
    return [
        _apply(state, kind, rtype, status, sub, str(body.get("description") or ""), stamp)
        for sub in found
        if sub
    ]


def _apply(
    state: SandboxState,
    kind: Kind,
    rtype: str,
    status: str,
    sub: dict[str, Any],
    note: str,
    stamp: str,
) -> dict[str, Any]:
    resolution = {
        "id": state.next_id("resolutions", start=90001),
        "type": rtype,
        "description": note,
        "target_type": kind.type_name,
        "target_id": int(sub["id"]),
        "user_id": int(us.ME_ID),
        "account_id": 1,
        "current": True,
        "created_at": stamp,
        "updated_at": stamp,
    }
    updated = {
        **sub,
        "status": status,
        "updated_at": stamp,
        "current_resolution_created_at_date": stamp,
        "current_resolution_creator_id": int(us.ME_ID),
        "current_resolution_description": note,
        "resolution_description": note,
    }
    state.put(kind.collection, sub["id"], updated)
    for entry in kind.by_submission(state, sub["id"]):
        _update_entry(state, kind, entry, status, stamp)
    _emit(state, kind, updated, sub)
    return resolution


def _update_entry(
    state: SandboxState, kind: Kind, entry: dict[str, Any], status: str, stamp: str
) -> None:
    approved = status == "approved"
    changed = {**entry, "approved": approved}
    if status in ("rejected", "cancelled"):
        changed.pop("active_submission_id", None)
    if bool(entry.get("approved")) != approved:
        kind.save(state, {**changed, "updated_at": stamp}, entry)
    else:
        kind.store(state, changed)


def _public(record: dict[str, Any], kind: Kind, include: list[str]) -> dict[str, Any]:
    shown = {k: v for k, v in record.items() if k != "entry_ids"}
    if "time_entries" in include or "expenses" in include:
        shown[kind.ids_field] = record["entry_ids"]
    return shown


def router(state: SandboxState, lazy: _Lazy) -> APIRouter:
    api = APIRouter()

    async def list_submissions(request: Request) -> dict[str, Any]:
        kind, query = lazy(), dict(request.query_params)
        only = set(csv(query.get("only")))
        found = [
            s
            for s in state.all(kind.collection)
            if (not only or s["id"] in only)
            and query.get("workspace_id") in (None, s["workspace_id"])
            and query.get("status") in (None, s["status"])
        ]
        records = order(found, query.get("order"), "id:desc")
        paging = Paging.from_query(query)
        include = csv(query.get("include"))
        page = [_public(r, kind, include) for r in paging.slice(records)]
        return Envelope(kind.collection, len(records), paging, page).body()

    async def show_submission(ref: str, request: Request) -> dict[str, Any]:
        kind = lazy()
        record = kind.get(state, strip_json(ref))
        if record is None:
            raise not_found(kind.type_name, strip_json(ref))
        include = csv(request.query_params.get("include"))
        return single(kind.collection, [_public(record, kind, include)]).body()

    async def create_submission(request: Request) -> dict[str, Any]:
        kind, body = lazy(), await read_json(request)
        item = body.get(f"{kind.prefix}_submission")
        if not isinstance(item, dict):
            raise missing_param(f"{kind.prefix}_submission")
        with state.transaction():
            record = submit(state, kind, item)
        return single(kind.collection, [_public(record, kind, ["time_entries"])]).body()

    def resolver(rtype: str) -> Callable[[Request], Any]:
        async def resolve_submissions(request: Request) -> dict[str, Any]:
            item = (await read_json(request)).get("resolution")
            if not isinstance(item, dict):
                raise missing_param("resolution")
            with state.transaction():
                made = resolve(state, lazy(), rtype, item)
            results = [{"key": "resolutions", "id": str(r["id"])} for r in made]
            return {"count": len(made), "results": results, "resolutions": made}

        return resolve_submissions

    name = "timesheet" if lazy is TIME else "expense_report"
    collection_route(api, f"/api/v1/{name}_submissions", list_submissions, "GET")
    collection_route(api, f"/api/v1/{name}_submissions", create_submission, "POST")
    api.add_api_route(f"/api/v1/{name}_submissions/{{ref}}", show_submission, methods=["GET"])
    for rtype, suffix in _PATHS.items():
        collection_route(api, f"/api/v1/{name}_{suffix}", resolver(rtype), "POST")
    return api
