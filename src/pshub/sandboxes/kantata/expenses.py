"""Expenses: ``/api/v1/expenses`` list, create (also in bulk), show, update, delete.

Built to the vendor's ``mavenlink-expenses-api-openapi.yml``: create takes ``workspace_id``,
``date``, ``category``, ``amount_in_cents`` (subunits of the workspace currency), ``billable``
(read back as ``is_billable``), ``reimbursable``, ``notes``, ``story_id``, ``user_id``; bulk up
to 100. The spec also lists ``expense_category_id`` as required; the sandbox has no expense
category list, so it accepts the built-in ``category`` names without it. The ``Expense`` schema
has no approval attribute: approval is the ``approved`` filter (on an approved expense report,
or in a workspace that does not require expense approvals) and ``include=active_submission``.
Each change writes an ``expense:created|updated|deleted`` event whose payload carries
``approved`` as a tracked property.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import events, refs
from pshub.sandboxes.kantata import stories as st
from pshub.sandboxes.kantata import users as us
from pshub.sandboxes.kantata import workspaces as ws
from pshub.sandboxes.kantata.common import base_unit, clean, collection_route, read_json, unwrap
from pshub.sandboxes.kantata.envelope import (
    Envelope,
    Paging,
    check_date,
    check_int,
    check_text,
    csv,
    now_iso,
    order,
    parse_bool,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, KantataError, not_found

KEY = "expenses"
CATEGORIES = ("Travel", "Mileage", "Lodging", "Food", "Entertainment", "Other")
_HIDDEN = ("approved", "active_submission_id", "recent_submission_id")
LOCKED = "Expense is locked: it is on a submitted or approved expense report"


def load(state: SandboxState, ids: list[str]) -> list[dict[str, Any]]:
    return [r for i in ids if (r := state.get(KEY, str(i))) is not None]


def _validate(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> FieldErrors:
    errors = FieldErrors()
    if current is None:
        if state.get(ws.COLLECTION, str(body.get("workspace_id") or "")) is None:
            errors.add("workspace_id", "workspace not found")
        for name in ("date", "category", "amount_in_cents"):
            if body.get(name) is None:
                errors.add(name, f"{name} can't be blank")
    check_date(errors, body, "date")
    check_text(errors, body, "category")
    check_text(errors, body, "notes")
    check_int(errors, body, "amount_in_cents", minimum=0)
    for name in ("billable", "reimbursable"):
        if name in body and not isinstance(body[name], bool):
            errors.add(name, f"{name} must be true or false")
    wid = str(body.get("workspace_id") or (current or {}).get("workspace_id") or "")
    if body.get("story_id") is not None:
        story = state.get(st.COLLECTION, str(body["story_id"]))
        if story is None or story["workspace_id"] != wid:
            errors.add("story_id", "story must exist in the expense's workspace")
    if body.get("user_id") is not None and state.get(us.COLLECTION, str(body["user_id"])) is None:
        errors.add("user_id", "user not found")
    refs.check(errors, body)
    return errors


def _build(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    stamp = now_iso()
    record: dict[str, Any] = (
        dict(current)
        if current
        else {
            "id": str(state.next_id(KEY, start=40001)),
            "workspace_id": str(body["workspace_id"]),
            "user_id": str(body.get("user_id") or us.ME_ID),
            "is_billable": True,
            "reimbursable": True,
            "taxable": False,
            "is_invoiced": False,
            "approved": False,
            "notes": "",
            "created_at": stamp,
        }
    )
    for name in ("date", "category", "notes", "reimbursable"):
        if body.get(name) is not None:
            record[name] = body[name]
    if body.get("amount_in_cents") is not None:
        record["amount_in_cents"] = int(body["amount_in_cents"])
    if body.get("billable") is not None:
        record["is_billable"] = body["billable"]
    for name in ("story_id", "user_id"):
        if body.get(name) is not None:
            record[name] = str(body[name])
    workspace = state.get(ws.COLLECTION, record["workspace_id"]) or {}
    currency = str(workspace.get("currency") or "USD")
    record.update(
        currency=currency, currency_symbol=currency, currency_base_unit=base_unit(currency)
    )
    record["updated_at"] = stamp
    return clean(record)


def payload(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in record.items() if k not in ("active_submission_id", "recent_submission_id")
    }


def save(state: SandboxState, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Store the expense and its change event (inside a transaction)."""
    state.put(KEY, record["id"], record)
    events.emit(
        state,
        f"expense:{'created' if previous is None else 'updated'}",
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
        raise KantataError(422, [{"type": "validation", "message": LOCKED, "field": "base"}])
    _validate(state, body, current).raise_if_any()
    record = _build(state, body, current)
    save(state, record, current)
    refs.attach(state, "Expense", record["id"], body.get("external_reference"))
    return record


def _approved(state: SandboxState, record: dict[str, Any]) -> bool:
    if record.get("approved"):
        return True
    workspace = state.get(ws.COLLECTION, record["workspace_id"]) or {}
    return not workspace.get("require_expense_approvals")


def _matches(state: SandboxState, record: dict[str, Any], query: dict[str, str]) -> bool:
    start, _, end = (query.get("date_expensed_between") or ":").partition(":")
    checks: tuple[tuple[str, Callable[[str], bool]], ...] = (
        ("only", lambda v: record["id"] in csv(v)),
        ("workspace_id", lambda v: record["workspace_id"] == v),
        ("approved", lambda _: _approved(state, record)),
        ("reimbursable", lambda v: record.get("reimbursable") == parse_bool(v)),
        ("updated_after", lambda v: record["updated_at"] > v),
        ("updated_before", lambda v: record["updated_at"] < v),
        ("with_expense_report_id", lambda v: record.get("active_submission_id") == v),
    )
    in_range = (not start or record["date"] >= start) and (not end or record["date"] <= end)
    return in_range and all(test(query[n]) for n, test in checks if n in query)


def _envelope(state: SandboxState, env: Envelope, include: list[str]) -> dict[str, Any]:
    from pshub.sandboxes.kantata import submissions

    stored = list(env.records)
    env.records = [
        {k: v for k, v in r.items() if k not in _HIDDEN}
        | (
            {"active_submission_id": r["active_submission_id"]}
            if "active_submission" in include and r.get("active_submission_id")
            else {}
        )
        for r in stored
    ]
    if "active_submission" in include:
        ids = sorted({r["active_submission_id"] for r in stored if r.get("active_submission_id")})
        env.sideload("expense_report_submissions", submissions.EXPENSE.load(state, ids))
    if "workspace" in include:
        env.sideload(
            ws.COLLECTION,
            [
                w
                for i in sorted({r["workspace_id"] for r in stored})
                if (w := state.get(ws.COLLECTION, i))
            ],
        )
    if "external_references" in include:
        index = refs.index(state, "Expense")
        for record in env.records:
            attached = index[("Expense", record["id"])]
            record["external_reference_ids"] = [r["id"] for r in attached]
            env.sideload("external_references", attached)
    return env.body()


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_expenses(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        found = [r for r in state.all(KEY) if _matches(state, r, query)]
        records = order(found, query.get("order"), "date:desc")
        paging = Paging.from_query(query)
        env = Envelope(KEY, len(records), paging, paging.slice(records))
        return _envelope(state, env, csv(query.get("include")))

    async def create_expenses(request: Request) -> dict[str, Any]:
        items = unwrap(await read_json(request), "expense", KEY, limit=100)
        with state.transaction():
            for item in items:
                _validate(state, item, None).raise_if_any()
            created = [_write(state, item, None) for item in items]
        return _envelope(state, single(KEY, created), csv(request.query_params.get("include")))

    def _load(ref: str) -> dict[str, Any]:
        record = state.get(KEY, strip_json(ref))
        if record is None:
            raise not_found("Expense", strip_json(ref))
        return record

    async def show_expense(ref: str, request: Request) -> dict[str, Any]:
        return _envelope(state, single(KEY, [_load(ref)]), csv(request.query_params.get("include")))

    async def update_expense(ref: str, request: Request) -> dict[str, Any]:
        item = unwrap(await read_json(request), "expense", KEY, limit=1)[0]
        with state.transaction():
            record = _write(state, item, _load(ref))
        return _envelope(state, single(KEY, [record]), csv(request.query_params.get("include")))

    async def delete_expense(ref: str) -> Response:
        with state.transaction():
            record = _load(ref)
            if record.get("active_submission_id"):
                raise KantataError(
                    422, [{"type": "validation", "message": LOCKED, "field": "base"}]
                )
            state.delete(KEY, record["id"])
            events.emit(
                state,
                "expense:deleted",
                record["id"],
                current=None,
                previous=payload(record),
                workspace_id=record["workspace_id"],
            )
        return Response(status_code=204)

    collection_route(api, "/api/v1/expenses", list_expenses, "GET")
    collection_route(api, "/api/v1/expenses", create_expenses, "POST")
    api.add_api_route("/api/v1/expenses/{ref}", show_expense, methods=["GET"])
    api.add_api_route("/api/v1/expenses/{ref}", update_expense, methods=["PUT"])
    api.add_api_route("/api/v1/expenses/{ref}", delete_expense, methods=["DELETE"])
    return api


def public(state: SandboxState, ids: list[str]) -> list[dict[str, Any]]:
    """Expenses as the API shows them (for sideloads)."""
    return [{k: v for k, v in r.items() if k not in _HIDDEN} for r in load(state, ids)]
