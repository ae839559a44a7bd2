"""Billing milestones: ``/api/v1/billing_milestones`` list, create (up to 100), show, update,
delete.

Built to the vendor's ``mavenlink-billing-milestones-api-openapi.yml``: create needs ``title``,
``amount_in_cents`` (subunits, may be negative) and ``workspace_id``; ``billing_type`` is
``fixed_date`` or ``upon_completion`` (which needs ``story_id``); ``date_to_invoice`` is a date.
``invoice_id`` is read-only (set when Kantata's own invoicing picks the milestone up), so an
outside ERP's invoice is linked through the milestone's ``external_reference``
(``external_status``/``external_message``), which the spec allows on create and update.
Filters: ``only``, ``workspace_ids``, ``story_ids``, ``date_between``, external-reference
filters; ``include=external_references,story,workspace``. Billing milestones are not a
Subscribed Events subject type, so they write no events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import refs
from pshub.sandboxes.kantata import stories as st
from pshub.sandboxes.kantata import workspaces as ws
from pshub.sandboxes.kantata.common import clean, collection_route, read_json, unwrap
from pshub.sandboxes.kantata.envelope import (
    Envelope,
    Paging,
    check_date,
    check_enum,
    check_int,
    check_text,
    csv,
    now_iso,
    order,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, not_found

KEY = "billing_milestones"
SUBJECT = "BillingMilestone"
BILLING_TYPES = ("fixed_date", "upon_completion")


def _validate(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> FieldErrors:
    errors = FieldErrors()
    wid = str(body.get("workspace_id") or (current or {}).get("workspace_id") or "")
    if current is None:
        if state.get(ws.COLLECTION, wid) is None:
            errors.add("workspace_id", "workspace not found")
        if body.get("amount_in_cents") is None:
            errors.add("amount_in_cents", "amount_in_cents can't be blank")
    if current is None or "title" in body:
        check_text(errors, body, "title", required=True, message="Title can't be blank")
    check_int(errors, body, "amount_in_cents")
    check_date(errors, body, "date_to_invoice")
    check_enum(errors, body, "billing_type", BILLING_TYPES)
    merged = {**(current or {}), **{k: v for k, v in body.items() if v is not None}}
    if merged.get("billing_type") == "upon_completion" and not merged.get("story_id"):
        errors.add("story_id", "story_id is required when billing_type is upon_completion")
    if body.get("story_id") is not None:
        story = state.get(st.COLLECTION, str(body["story_id"]))
        if story is None or story.get("deleted_at") or story["workspace_id"] != wid:
            errors.add("story_id", "story must exist in the milestone's workspace")
    refs.check(errors, body)
    return errors


def _write(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    _validate(state, body, current).raise_if_any()
    stamp = now_iso()
    record: dict[str, Any] = (
        dict(current)
        if current
        else {
            "id": str(state.next_id(KEY, start=70001)),
            "workspace_id": str(body["workspace_id"]),
            "billing_type": "fixed_date",
            "created_at": stamp,
        }
    )
    for name in ("title", "date_to_invoice", "billing_type"):
        if body.get(name) is not None:
            record[name] = body[name]
    if body.get("amount_in_cents") is not None:
        record["amount_in_cents"] = int(body["amount_in_cents"])
    if body.get("story_id") is not None:
        record["story_id"] = str(body["story_id"])
    workspace = state.get(ws.COLLECTION, record["workspace_id"]) or {}
    record["currency"] = workspace.get("currency", "USD")
    record["updated_at"] = stamp
    state.put(KEY, record["id"], clean(record))
    refs.attach(state, SUBJECT, record["id"], body.get("external_reference"))
    return clean(record)


def _matches(record: dict[str, Any], query: dict[str, str]) -> bool:
    start, _, end = (query.get("date_between") or ":").partition(":")
    when = str(record.get("date_to_invoice") or "")
    in_range = (not start or (when and when >= start)) and (not end or (when and when <= end))
    checks: tuple[tuple[str, Callable[[str], bool]], ...] = (
        ("only", lambda v: record["id"] in csv(v)),
        ("workspace_ids", lambda v: record["workspace_id"] in csv(v)),
        ("story_ids", lambda v: record.get("story_id") in csv(v)),
    )
    return bool(in_range) and all(test(query[n]) for n, test in checks if n in query)


def _envelope(state: SandboxState, env: Envelope, include: list[str]) -> dict[str, Any]:
    if "external_references" in include:
        index = refs.index(state, SUBJECT)
        for record in env.records:
            attached = index[(SUBJECT, record["id"])]
            record["external_reference_ids"] = [r["id"] for r in attached]
            env.sideload("external_references", attached)
    if "story" in include:
        ids = sorted({r["story_id"] for r in env.records if r.get("story_id")})
        env.sideload(st.COLLECTION, [s for i in ids if (s := state.get(st.COLLECTION, i))])
    if "workspace" in include:
        ids = sorted({r["workspace_id"] for r in env.records})
        env.sideload(ws.COLLECTION, [w for i in ids if (w := state.get(ws.COLLECTION, i))])
    return env.body()


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_milestones(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        index = refs.index(state, SUBJECT)
        found = [
            r
            for r in state.all(KEY)
            if _matches(r, query) and refs.matches(index[(SUBJECT, r["id"])], query)
        ]
        records = order(found, query.get("order"), "created_at:asc")
        paging = Paging.from_query(query)
        env = Envelope(KEY, len(records), paging, paging.slice(records))
        return _envelope(state, env, csv(query.get("include")))

    async def create_milestones(request: Request) -> dict[str, Any]:
        items = unwrap(await read_json(request), "billing_milestone", KEY, limit=100)
        with state.transaction():
            for item in items:
                _validate(state, item, None).raise_if_any()
            created = [_write(state, item, None) for item in items]
        return _envelope(state, single(KEY, created), csv(request.query_params.get("include")))

    def _load(ref: str) -> dict[str, Any]:
        record = state.get(KEY, strip_json(ref))
        if record is None:
            raise not_found("BillingMilestone", strip_json(ref))
        return record

    async def show_milestone(ref: str, request: Request) -> dict[str, Any]:
        return _envelope(state, single(KEY, [_load(ref)]), csv(request.query_params.get("include")))

    async def update_milestone(ref: str, request: Request) -> dict[str, Any]:
        item = unwrap(await read_json(request), "billing_milestone", KEY, limit=1)[0]
        with state.transaction():
            record = _write(state, item, _load(ref))
        return _envelope(state, single(KEY, [record]), csv(request.query_params.get("include")))

    async def delete_milestone(ref: str) -> Response:
        if not state.delete(KEY, strip_json(ref)):
            raise not_found("BillingMilestone", strip_json(ref))
        return Response(status_code=204)

    collection_route(api, "/api/v1/billing_milestones", list_milestones, "GET")
    collection_route(api, "/api/v1/billing_milestones", create_milestones, "POST")
    api.add_api_route("/api/v1/billing_milestones/{ref}", show_milestone, methods=["GET"])
    api.add_api_route("/api/v1/billing_milestones/{ref}", update_milestone, methods=["PUT"])
    api.add_api_route("/api/v1/billing_milestones/{ref}", delete_milestone, methods=["DELETE"])
    return api
