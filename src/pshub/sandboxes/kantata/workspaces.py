"""Workspaces (projects): ``/api/v1/workspaces`` list, create (also in bulk), show, update, delete.

Built to the vendor's ``mavenlink-workspaces-api-openapi.yml``: request ``{"workspace": {...}}``
(or ``{"workspaces": [...]}``, up to 100); ``price`` is written in base units of the currency
("The project budget, in base units of the currency (e.g. dollars for USD)") and read back as
``price`` (string) and ``price_in_cents`` (subunits); archived projects are hidden unless
``include_archived=true`` or ``archived=include|only``; ``include=external_references`` and
``include=custom_field_values`` are sideloaded. Every create, update (e.g. a budget change) and
delete writes a ``workspace:created|updated|deleted`` subscribed event.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import events, refs
from pshub.sandboxes.kantata.common import (
    base_unit,
    cents_to_units,
    check_currency,
    clean,
    collection_route,
    read_json,
    units_to_cents,
    unwrap,
)
from pshub.sandboxes.kantata.envelope import (
    Envelope,
    Paging,
    check_date,
    check_enum,
    check_text,
    csv,
    now_iso,
    order,
    parse_bool,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, not_found

COLLECTION = "workspaces"
CUSTOM_FIELD_VALUES = "custom_field_values"
INVOICE_PREFERENCES = "workspace_invoice_preferences"
# Custom fields defined on the sandbox account for projects: id -> name.
WORKSPACE_CUSTOM_FIELDS = {"101": "Client", "102": "Legal Entity", "103": "Contract"}
_CREATOR_ROLES = ("client", "consultant", "maven", "buyer")
_ACCESS_LEVELS = ("invitation", "open", "admins")
_FLAGS = (
    "budgeted",
    "archived",
    "change_orders_enabled",
    "require_time_approvals",
    "require_expense_approvals",
    "time_trackable",
    "tasks_default_non_billable",
    "stories_are_fixed_fee_by_default",
)


def _validate(body: dict[str, Any], current: dict[str, Any] | None) -> FieldErrors:
    errors = FieldErrors()
    if current is None or "title" in body:
        check_text(errors, body, "title", required=True, message="Please give your project a title")
    check_text(errors, body, "description")
    for name in ("start_date", "due_date"):
        check_date(errors, body, name)
    check_currency(errors, body.get("currency"))
    check_enum(errors, body, "creator_role", _CREATOR_ROLES)
    check_enum(errors, body, "access_level", _ACCESS_LEVELS)
    for name in _FLAGS:
        if name in body and not isinstance(body[name], bool):
            errors.add(name, f"{name} must be true or false")
    merged = {**(current or {}), **{k: v for k, v in body.items() if v is not None}}
    start, due = merged.get("start_date"), merged.get("due_date")
    if not errors.items and start and due and str(due) < str(start):
        errors.add("due_date", "Due date must be on or after the start date")
    currency = merged.get("currency") or "USD"
    if body.get("price") is not None and not any(e["field"] == "currency" for e in errors.items):
        units_to_cents(errors, "price", body["price"], str(currency))
    refs.check(errors, body)
    _check_custom_fields(errors, body.get("custom_fields"))
    return errors


def _check_custom_fields(errors: FieldErrors, values: Any) -> None:
    if values is None:
        return
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        errors.add("custom_fields", "custom_fields must be an array of objects")
        return
    for value in values:
        if str(value.get("custom_field_id")) not in WORKSPACE_CUSTOM_FIELDS:
            errors.add("custom_fields", f"custom field {value.get('custom_field_id')} not found")


def _apply_money(errors: FieldErrors, record: dict[str, Any], body: dict[str, Any]) -> None:
    currency = record["currency"]
    if "price" in body and body["price"] is not None:
        cents = units_to_cents(errors, "price", body["price"], currency)
        if cents is not None:
            record["price_in_cents"] = cents
    cents = int(record.get("price_in_cents", 0))
    used = int(record.get("budget_used_in_cents", 0))
    record.update(
        currency_base_unit=base_unit(currency),
        currency_symbol=currency,
        price=cents_to_units(cents, currency),
        budget_used_in_cents=used,
        budget_used=cents_to_units(used, currency),
        budget_remaining=cents_to_units(cents - used, currency),
        percent_of_budget_used=(used * 100 // cents) if cents else 0,
        over_budget=used > cents,
    )


def _new_record(state: SandboxState) -> dict[str, Any]:
    stamp = now_iso()
    return {
        "id": str(state.next_id(COLLECTION, start=1001)),
        "account_id": 1,
        "archived": False,
        "access_level": "invitation",
        "budgeted": True,
        "currency": "USD",
        "price_in_cents": 0,
        "budget_used_in_cents": 0,
        "can_create_line_items": True,
        "can_invite": True,
        "has_budget_access": True,
        "change_orders_enabled": True,
        "client_role_name": "Client",
        "consultant_role_name": "Provider",
        "percentage_complete": 0,
        "posts_require_privacy_decision": False,
        "require_time_approvals": False,
        "require_expense_approvals": False,
        "tasks_default_non_billable": False,
        "stories_are_fixed_fee_by_default": False,
        "exclude_archived_stories_percent_complete": False,
        "time_trackable": True,
        "status": {"color": "grey", "key": "400", "message": "Not Started"},
        "created_at": stamp,
    }


_WRITABLE = (
    "title",
    "description",
    "start_date",
    "due_date",
    "currency",
    "access_level",
    *_FLAGS,
    "client_role_name",
    "consultant_role_name",
    "rate_card_id",
    "target_margin",
)


def _write(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    errors = _validate(body, current)
    errors.raise_if_any()
    record = dict(current) if current is not None else _new_record(state)
    for name in _WRITABLE:
        if name in body:
            record[name] = body[name]
    record["effective_due_date"] = record.get("due_date")
    _apply_money(errors, record, body)
    errors.raise_if_any()
    record["updated_at"] = now_iso()
    _store_invoice_preference(state, record, body.get("invoice_preference"))
    state.put(COLLECTION, record["id"], clean(record))
    _store_custom_fields(state, record["id"], body.get("custom_fields") or [])
    refs.attach(state, "Workspace", record["id"], body.get("external_reference"))
    action = "created" if current is None else "updated"
    events.emit(state, f"workspace:{action}", record["id"], current=clean(record), previous=current)
    return clean(record)


def _store_invoice_preference(state: SandboxState, record: dict[str, Any], preference: Any) -> None:
    if not isinstance(preference, dict):
        return
    key = record.get("workspace_invoice_preference_id")
    if key is None:
        key = state.next_id(INVOICE_PREFERENCES, start=501)
        record["workspace_invoice_preference_id"] = key
    current = state.get(INVOICE_PREFERENCES, str(key)) or {
        "id": str(key),
        "workspace_id": record["id"],
    }
    current.update({k: v for k, v in preference.items() if isinstance(v, str)})
    state.put(INVOICE_PREFERENCES, str(key), current)


def _store_custom_fields(
    state: SandboxState, workspace_id: str, values: list[dict[str, Any]]
) -> None:
    for value in values:
        field_id = str(value["custom_field_id"])
        existing = [
            v
            for v in state.find(
                CUSTOM_FIELD_VALUES, subject_type="Workspace", subject_id=int(workspace_id)
            )
            if v["custom_field_id"] == field_id
        ]
        stamp = now_iso()
        record: dict[str, Any] = (
            existing[0]
            if existing
            else {
                "id": str(state.next_id(CUSTOM_FIELD_VALUES, start=3001)),
                "account_id": 1,
                "subject_type": "Workspace",
                "subject_id": int(workspace_id),
                "custom_field_id": field_id,
                "custom_field_name": WORKSPACE_CUSTOM_FIELDS[field_id],
                "type": "string",
                "can_edit": True,
                "created_at": stamp,
            }
        )
        text = "" if value.get("value") is None else str(value["value"])
        record.update(value=text, display_value=text, updated_at=stamp)
        state.put(CUSTOM_FIELD_VALUES, str(record["id"]), record)


def _visible(record: dict[str, Any], query: dict[str, str]) -> bool:
    archived = query.get("archived")
    include_archived = parse_bool(query.get("include_archived")) or archived == "include"
    if archived == "only":
        return bool(record.get("archived"))
    return include_archived or not record.get("archived")


def _filter(state: SandboxState, query: dict[str, str]) -> list[dict[str, Any]]:
    index = refs.index(state, "Workspace")
    only = set(csv(query.get("only")))
    budgeted = parse_bool(query.get("budgeted"))
    matching = (query.get("matching") or "").lower()
    result = []
    for record in state.all(COLLECTION):
        if only and record["id"] not in only:
            continue
        if budgeted is not None and record.get("budgeted") != budgeted:
            continue
        if matching and not str(record.get("title", "")).lower().startswith(matching):
            continue
        if _visible(record, query) and refs.matches(index[("Workspace", record["id"])], query):
            result.append(record)
    return result


def _envelope(state: SandboxState, env: Envelope, include: list[str]) -> dict[str, Any]:
    if "external_references" in include:
        index = refs.index(state, "Workspace")
        for record in env.records:
            attached = index[("Workspace", record["id"])]
            record["external_reference_ids"] = [r["id"] for r in attached]
            env.sideload("external_references", attached)
    if "custom_field_values" in include:
        for record in env.records:
            values = state.find(
                CUSTOM_FIELD_VALUES, subject_type="Workspace", subject_id=int(record["id"])
            )
            record["custom_field_value_ids"] = [v["id"] for v in values]
            env.sideload("custom_field_values", values)
    return env.body()


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_workspaces(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        records = order(_filter(state, query), query.get("order"), "updated_at:desc")
        paging = Paging.from_query(query)
        env = Envelope(COLLECTION, len(records), paging, paging.slice(records))
        return _envelope(state, env, csv(query.get("include")))

    async def create_workspace(request: Request) -> dict[str, Any]:
        items = unwrap(await read_json(request), "workspace", COLLECTION, limit=100)
        with state.transaction():
            for item in items:  # validate all first: a bulk create is all or nothing
                _validate(item, None).raise_if_any()
            created = [_write(state, item, None) for item in items]
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, created), include)

    def _load(ref: str, query: dict[str, str]) -> dict[str, Any]:
        record = state.get(COLLECTION, strip_json(ref))
        hidden = (
            record is not None
            and record.get("archived")
            and not parse_bool(query.get("include_archived"))
        )
        if record is None or hidden:
            raise not_found("Workspace", strip_json(ref))
        return record

    async def show_workspace(ref: str, request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        record = _load(ref, query)
        return _envelope(state, single(COLLECTION, [record]), csv(query.get("include")))

    async def update_workspace(ref: str, request: Request) -> dict[str, Any]:
        body = await read_json(request)
        item = unwrap(body, "workspace", COLLECTION, limit=1)[0]
        with state.transaction():
            current = state.get(COLLECTION, strip_json(ref))
            if current is None:
                raise not_found("Workspace", strip_json(ref))
            record = _write(state, item, current)
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, [record]), include)

    async def delete_workspace(ref: str) -> Response:
        with state.transaction():
            previous = state.get(COLLECTION, strip_json(ref))
            if previous is None or not state.delete(COLLECTION, strip_json(ref)):
                raise not_found("Workspace", strip_json(ref))
            events.emit(state, "workspace:deleted", previous["id"], current=None, previous=previous)
        return Response(status_code=204)

    collection_route(api, "/api/v1/workspaces", list_workspaces, "GET")
    collection_route(api, "/api/v1/workspaces", create_workspace, "POST")
    api.add_api_route("/api/v1/workspaces/{ref}", show_workspace, methods=["GET"])
    api.add_api_route("/api/v1/workspaces/{ref}", update_workspace, methods=["PUT"])
    api.add_api_route("/api/v1/workspaces/{ref}", delete_workspace, methods=["DELETE"])
    return api
