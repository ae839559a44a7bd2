"""Assignments (a resource on a task, with estimated minutes): ``/api/v1/assignments``.

Built to the vendor's ``mavenlink-assignments-api-openapi.yml``: create takes
``{"assignment": {story_id, assignee_id | resource_id, estimated_minutes, current}}``
("Provide either `assignee_id` or `resource_id`. If both are provided, `resource_id` overrides
`assignee_id`"); assignments "cannot be deleted, but are considered inactive when a resource is
unassigned from a task" (``current: false``), so there is no DELETE here either. The list
filters by ``workspace_id``, ``story_id``, ``assignee_id``, ``resource_id``, ``current`` /
``uncurrent``, ``updated_after``; ``include`` sideloads ``assignee`` (users) and ``story``
(stories). The sandbox has one resource per user: a user's resource id is their user id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata import stories, users
from pshub.sandboxes.kantata.common import clean, collection_route, read_json, unwrap
from pshub.sandboxes.kantata.envelope import (
    Envelope,
    Paging,
    check_int,
    csv,
    now_iso,
    order,
    parse_bool,
    single,
    strip_json,
)
from pshub.sandboxes.kantata.errors import FieldErrors, not_found

COLLECTION = "assignments"


def _validate(state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None) -> str:
    """Check the body; the assignee (user id) it names. Raises one 422 naming every field."""
    errors = FieldErrors()
    if current is None:
        story = state.get(stories.COLLECTION, str(body.get("story_id") or ""))
        if story is None or story.get("deleted_at"):
            errors.add("story_id", "Story can't be blank")
    who = body.get("resource_id", body.get("assignee_id"))
    assignee = str(who) if who is not None else (current or {}).get("resource_id", "")
    if state.get(users.COLLECTION, str(assignee)) is None:
        field = "resource_id" if "resource_id" in body else "assignee_id"
        errors.add(field, "Provide either assignee_id or resource_id of an existing user")
    check_int(errors, body, "estimated_minutes", minimum=0)
    if "current" in body and not isinstance(body["current"], bool):
        errors.add("current", "current must be true or false")
    errors.raise_if_any()
    return str(assignee)


def _write(
    state: SandboxState, body: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    assignee = _validate(state, body, current)
    stamp = now_iso()
    record: dict[str, Any] = (
        dict(current)
        if current is not None
        else {
            "id": str(state.next_id(COLLECTION, start=70001)),
            "story_id": str(body["story_id"]),
            "current": True,
            "estimated_minutes": 0,
            "allocated_minutes": 0,
            "created_at": stamp,
        }
    )
    record["resource_id"] = int(assignee)
    record["assignee_id"] = assignee
    if "estimated_minutes" in body:
        record["estimated_minutes"] = int(body["estimated_minutes"])
    if "current" in body:
        record["current"] = body["current"]
    story = state.get(stories.COLLECTION, str(record["story_id"])) or {}
    record["workspace_id"] = story.get("workspace_id")
    record["updated_at"] = stamp
    state.put(COLLECTION, str(record["id"]), clean(record))
    return clean(record)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the vendor shows it (``workspace_id`` is kept internal for filtering)."""
    return {k: v for k, v in record.items() if k != "workspace_id"}


def _matches(record: dict[str, Any], query: dict[str, str]) -> bool:
    checks = (
        ("only", lambda v: record["id"] in csv(v)),
        ("workspace_id", lambda v: str(record.get("workspace_id")) == v),
        ("story_id", lambda v: record["story_id"] == v),
        ("assignee_id", lambda v: record["assignee_id"] == v),
        ("resource_id", lambda v: str(record["resource_id"]) == v),
        ("current", lambda v: parse_bool(v) is not True or bool(record["current"])),
        ("uncurrent", lambda v: parse_bool(v) is not True or not record["current"]),
        ("updated_after", lambda v: record["updated_at"] > v),
    )
    return all(test(query[name]) for name, test in checks if name in query)


def _envelope(state: SandboxState, env: Envelope, include: list[str]) -> dict[str, Any]:
    visible = {name for name in include if name in ("assignee", "story")}
    records = env.records
    env.records = [
        {k: v for k, v in public(r).items() if k != "assignee_id" or "assignee" in visible}
        for r in records
    ]
    for record in env.records:
        if "story" not in visible:
            record.pop("story_id", None)
    if "assignee" in visible:
        ids = sorted({r["assignee_id"] for r in records})
        env.sideload(users.COLLECTION, [u for i in ids if (u := state.get(users.COLLECTION, i))])
    if "story" in visible:
        ids = sorted({r["story_id"] for r in records})
        found = (state.get(stories.COLLECTION, i) for i in ids)
        env.sideload(stories.COLLECTION, [s for s in found if s is not None])
    return env.body()


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_assignments(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        found = [r for r in state.all(COLLECTION) if _matches(r, query)]
        records = order(found, query.get("order"), "created_at:desc")
        paging = Paging.from_query(query)
        env = Envelope(COLLECTION, len(records), paging, paging.slice(records))
        return _envelope(state, env, csv(query.get("include")))

    async def create_assignment(request: Request) -> dict[str, Any]:
        items = unwrap(await read_json(request), "assignment", COLLECTION, limit=1)
        with state.transaction():
            created = [_write(state, item, None) for item in items]
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, created), include)

    def _load(ref: str) -> dict[str, Any]:
        record = state.get(COLLECTION, strip_json(ref))
        if record is None:
            raise not_found("Assignment", strip_json(ref))
        return record

    async def show_assignment(ref: str, request: Request) -> dict[str, Any]:
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, [_load(ref)]), include)

    async def update_assignment(ref: str, request: Request) -> dict[str, Any]:
        item = unwrap(await read_json(request), "assignment", COLLECTION, limit=1)[0]
        with state.transaction():
            record = _write(state, item, _load(ref))
        include = csv(request.query_params.get("include"))
        return _envelope(state, single(COLLECTION, [record]), include)

    collection_route(api, "/api/v1/assignments", list_assignments, "GET")
    collection_route(api, "/api/v1/assignments", create_assignment, "POST")
    api.add_api_route("/api/v1/assignments/{ref}", show_assignment, methods=["GET"])
    api.add_api_route("/api/v1/assignments/{ref}", update_assignment, methods=["PUT"])
    return api
