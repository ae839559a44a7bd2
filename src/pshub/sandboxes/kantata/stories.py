"""Stories (tasks, deliverables, milestones, issues): ``/api/v1/stories``.

Built to the vendor's ``mavenlink-stories-api-openapi.yml``: create needs ``workspace_id``
and ``title``; ``story_type`` defaults to ``task``; ``state`` takes the listed status
categories; ``budget_estimate_in_cents`` (subunits of the workspace currency) can only be set
in a budgeted workspace, which is how a milestone carries its billing value; bulk create takes
``{"stories": [...]}`` up to 300. DELETE is a soft delete (``deleted_at``; ``show_deleted`` /
``only_deleted`` bring them back); archived stories need ``show_archived=true``. Every create,
update and delete writes a ``story:created|updated|deleted`` subscribed event.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import events, refs
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
    parse_bool,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, not_found

COLLECTION = "stories"
STORY_TYPES = ("task", "deliverable", "milestone", "issue")
STATES = (
    "not started",
    "started",
    "needs info",
    "completed",
    "new",
    "reopened",
    "in progress",
    "blocked",
    "fixed",
    "duplicate",
    "can't repro",
    "resolved",
    "won't fix",
)
_WRITABLE = (
    "title",
    "description",
    "story_type",
    "start_date",
    "due_date",
    "state",
    "archived",
    "budget_estimate_in_cents",
    "time_estimate_in_minutes",
    "percentage_complete",
    "billable",
    "fixed_fee",
    "weight",
    "time_trackable",
)


def _check_parent(
    errors: FieldErrors, state: SandboxState, body: dict[str, Any], workspace_id: str | None
) -> dict[str, Any] | None:
    if body.get("parent_id") is None:
        return None
    parent = state.get(COLLECTION, str(body["parent_id"]))
    if parent is None or parent.get("deleted_at") or parent["workspace_id"] != workspace_id:
        errors.add("parent_id", "parent story must exist in the same workspace")
        return None
    return parent


def _validate(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> tuple[FieldErrors, dict[str, Any] | None]:
    errors = FieldErrors()
    workspace = None
    if current is None:
        workspace = state.get(ws.COLLECTION, str(body.get("workspace_id") or ""))
        if workspace is None:
            errors.add("workspace_id", "Workspace can't be blank")
    else:
        workspace = state.get(ws.COLLECTION, current["workspace_id"])
    if current is None or "title" in body:
        check_text(errors, body, "title", required=True, message="Title can't be blank")
    check_text(errors, body, "description", max_length=1000)
    check_enum(errors, body, "story_type", STORY_TYPES)
    check_enum(errors, body, "state", STATES)
    for name in ("start_date", "due_date"):
        check_date(errors, body, name)
    for name in ("budget_estimate_in_cents", "time_estimate_in_minutes"):
        check_int(errors, body, name, minimum=0)
    check_int(errors, body, "percentage_complete", minimum=0)
    complete = body.get("percentage_complete")
    if isinstance(complete, int) and not isinstance(complete, bool) and complete > 100:
        errors.add("percentage_complete", "percentage_complete must be between 0 and 100")
    if (
        body.get("budget_estimate_in_cents") is not None
        and workspace is not None
        and not workspace.get("budgeted")
    ):
        errors.add("budget_estimate_in_cents", "can only be set if the workspace is budgeted")
    _check_parent(errors, state, body, workspace["id"] if workspace else None)
    refs.check(errors, body)
    return errors, workspace


def _write(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    errors, workspace = _validate(state, body, current)
    errors.raise_if_any()
    if workspace is None:  # unreachable: _validate reported it; keeps the type narrow
        raise not_found("Workspace", str(body.get("workspace_id")))
    stamp = now_iso()
    record = (
        dict(current)
        if current is not None
        else {
            "id": str(state.next_id(COLLECTION, start=50001)),
            "workspace_id": workspace["id"],
            "story_type": "task",
            "state": "not started",
            "archived": False,
            "billable": True,
            "fixed_fee": False,
            "percentage_complete": 0,
            "budget_used_in_cents": 0,
            "project_plan": True,
            "time_trackable": True,
            "created_at": stamp,
            "position": state.count(COLLECTION) + 1,
        }
    )
    for name in _WRITABLE:
        if name in body:
            record[name] = body[name]
    for name in ("budget_estimate_in_cents", "time_estimate_in_minutes", "percentage_complete"):
        if record.get(name) is not None:
            record[name] = int(record[name])
    _apply_parent(state, record, body)
    record["status"] = record["state"]
    record["updated_at"] = stamp
    state.put(COLLECTION, record["id"], clean(record))
    refs.attach(state, "Story", record["id"], body.get("external_reference"))
    _emit(state, "created" if current is None else "updated", clean(record), current)
    return clean(record)


def _emit(
    state: SandboxState, action: str, record: dict[str, Any] | None, previous: dict[str, Any] | None
) -> None:
    """A ``story:*`` subscribed event: state changes (e.g. a milestone completed) are visible."""
    subject = record or previous or {}
    events.emit(
        state,
        f"story:{action}",
        subject["id"],
        current=record,
        previous=previous,
        workspace_id=subject.get("workspace_id"),
    )


def _apply_parent(state: SandboxState, record: dict[str, Any], body: dict[str, Any]) -> None:
    if "parent_id" not in body:
        record.setdefault("ancestor_ids", [])
        record.setdefault("ancestry_depth", 0)
        return
    parent = state.get(COLLECTION, str(body["parent_id"])) if body["parent_id"] else None
    record["parent_id"] = parent["id"] if parent else None
    record["ancestor_ids"] = [*parent.get("ancestor_ids", []), parent["id"]] if parent else []
    record["ancestry_depth"] = len(record["ancestor_ids"])


def _visible(record: dict[str, Any], query: dict[str, str]) -> bool:
    deleted = bool(record.get("deleted_at"))
    if parse_bool(query.get("only_deleted")):
        return deleted
    if deleted and not parse_bool(query.get("show_deleted")):
        return False
    archived = bool(record.get("archived"))
    if parse_bool(query.get("only_archived")) or query.get("archived") == "only":
        return archived
    show = parse_bool(query.get("show_archived")) or query.get("archived") == "include"
    return show or not archived


def _matches(record: dict[str, Any], query: dict[str, str]) -> bool:
    checks = (
        ("only", lambda v: record["id"] in csv(v)),
        ("workspace_id", lambda v: record["workspace_id"] == v),
        ("with_projects", lambda v: record["workspace_id"] in csv(v)),
        ("story_type", lambda v: record.get("story_type") == v),
        ("story_types", lambda v: record.get("story_type") in csv(v)),
        ("with_parent_id", lambda v: record.get("parent_id") == v),
        ("parents_only", lambda v: not parse_bool(v) or not record.get("parent_id")),
    )
    return all(test(query[name]) for name, test in checks if name in query)


def _envelope(state: SandboxState, env: Envelope, include: list[str]) -> dict[str, Any]:
    if "external_references" in include:
        index = refs.index(state, "Story")
        for record in env.records:
            attached = index[("Story", record["id"])]
            record["external_reference_ids"] = [r["id"] for r in attached]
            env.sideload("external_references", attached)
    if "workspace" in include:
        ids = {r["workspace_id"] for r in env.records}
        env.sideload(
            ws.COLLECTION,
            [w for i in sorted(ids) if (w := state.get(ws.COLLECTION, i)) is not None],
        )
    if "parent" in include:
        ids = {r["parent_id"] for r in env.records if r.get("parent_id")}
        env.sideload(
            COLLECTION, [p for i in sorted(ids) if (p := state.get(COLLECTION, i)) is not None]
        )
    return env.body()


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_stories(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        index = refs.index(state, "Story")
        found = [
            r
            for r in state.all(COLLECTION)
            if _visible(r, query)
            and _matches(r, query)
            and refs.matches(index[("Story", r["id"])], query)
        ]
        records = order(found, query.get("order"), "updated_at:desc")
        paging = Paging.from_query(query)
        env = Envelope(COLLECTION, len(records), paging, paging.slice(records))
        return _envelope(state, env, csv(query.get("include")))

    async def create_story(request: Request) -> dict[str, Any]:
        items = unwrap(await read_json(request), "story", COLLECTION, limit=300)
        with state.transaction():
            created = [_write(state, item, None) for item in items]
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, created), include)

    def _load(ref: str) -> dict[str, Any]:
        record = state.get(COLLECTION, strip_json(ref))
        if record is None or record.get("deleted_at"):
            raise not_found("Story", strip_json(ref))
        return record

    async def show_story(ref: str, request: Request) -> dict[str, Any]:
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, [_load(ref)]), include)

    async def update_story(ref: str, request: Request) -> dict[str, Any]:
        item = unwrap(await read_json(request), "story", COLLECTION, limit=1)[0]
        with state.transaction():
            record = _write(state, item, _load(ref))
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, [record]), include)

    async def delete_story(ref: str) -> Response:
        with state.transaction():
            previous = _load(ref)
            record = {**previous}
            record["deleted_at"] = record["updated_at"] = now_iso()
            state.put(COLLECTION, record["id"], record)
            _emit(state, "deleted", None, previous)
        return Response(status_code=204)

    collection_route(api, "/api/v1/stories", list_stories, "GET")
    collection_route(api, "/api/v1/stories", create_story, "POST")
    api.add_api_route("/api/v1/stories/{ref}", show_story, methods=["GET"])
    api.add_api_route("/api/v1/stories/{ref}", update_story, methods=["PUT"])
    api.add_api_route("/api/v1/stories/{ref}", delete_story, methods=["DELETE"])
    return api
