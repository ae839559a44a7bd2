"""Resource assignments on Kantata: read the staffing plan, assign a consultant to a task.

``GET /assignments?include=story`` (``mavenlink-assignments-api-openapi.yml``) gives each
current assignment's resource, estimated minutes and — sideloaded — its task with the task's
dates and project; projects are read once per 200 (``GET /workspaces?only=``) for the window
of a task without dates. Assignments cannot be deleted on Kantata (``current: false`` ends
them), so :func:`assign` finds the consultant's current assignment on the task and updates
it instead of creating a second one: a replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pshub.connectors.errors import RejectedError
from pshub.connectors.kantata.client import KantataClient
from pshub.domain.staffing import PlannedWork

PAGE = 200


def planned_work(
    client: KantataClient, workspace_ids: Iterable[str] | None = None
) -> list[PlannedWork]:
    """Every current assignment (of these projects, or all) with the window of its work."""
    params: dict[str, Any] = {"current": "true", "include": "story,assignee"}
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    wanted = set(workspace_ids) if workspace_ids is not None else None
    for body in client.pages("/assignments.json", params, per_page=PAGE):
        stories = body.get("stories") or {}
        for ref in body.get("results") or ():
            record = (body.get("assignments") or {}).get(str(ref["id"]))
            story = stories.get(str((record or {}).get("story_id")))
            if record is None or story is None:
                continue
            if wanted is None or str(story["workspace_id"]) in wanted:
                rows.append((record, story))
    windows = _workspace_windows(client, {str(s["workspace_id"]) for _, s in rows})
    out = []
    for record, story in rows:
        window = _window(story, windows.get(str(story["workspace_id"])))
        if window is None:
            continue  # neither the task nor its project is dated: nothing to plan by month
        out.append(
            PlannedWork(
                assignment_id=str(record["id"]),
                psa_project_id=str(story["workspace_id"]),
                story_id=str(story["id"]),
                user_id=str(record.get("assignee_id") or record["resource_id"]),
                estimated_minutes=int(record.get("estimated_minutes") or 0),
                start=window[0],
                end=window[1],
            )
        )
    return out


def _workspace_windows(
    client: KantataClient, ids: set[str]
) -> dict[str, tuple[str | None, str | None]]:
    ordered = sorted(ids)
    out: dict[str, tuple[str | None, str | None]] = {}
    for k in range(0, len(ordered), PAGE):
        only = ",".join(ordered[k : k + PAGE])
        for body in client.pages("/workspaces.json", {"only": only}, per_page=PAGE):
            for ws in (body.get("workspaces") or {}).values():
                out[str(ws["id"])] = (ws.get("start_date"), ws.get("due_date"))
    return out


def _window(
    story: dict[str, Any], project: tuple[str | None, str | None] | None
) -> tuple[date, date] | None:
    start = story.get("start_date") or (project or (None, None))[0]
    end = story.get("due_date") or (project or (None, None))[1]
    if not start or not end or end < start:
        return None
    return date.fromisoformat(start), date.fromisoformat(end)


def assign(client: KantataClient, story_id: str, user_id: str, estimated_minutes: int) -> str:
    """Assign the user to the task for ``estimated_minutes``; the same call again updates it."""
    found = client.request(
        "GET",
        "/assignments.json",
        params={"story_id": story_id, "assignee_id": user_id, "current": "true"},
    )
    existing = [str(r["id"]) for r in found.get("results") or ()]
    body = {"assignment": {"estimated_minutes": estimated_minutes}}
    if existing:
        client.request("PUT", f"/assignments/{existing[0]}.json", json=body)
        return existing[0]
    create = {"assignment": {**body["assignment"], "story_id": int(story_id)}}
    create["assignment"]["assignee_id"] = int(user_id)
    created = client.request("POST", "/assignments.json", json=create)
    ids = [str(r["id"]) for r in created.get("results") or ()]
    if not ids:
        raise RejectedError(
            "no assignment in the answer", vendor="kantata", operation="POST /assignments"
        )
    return ids[0]
