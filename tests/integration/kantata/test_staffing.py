"""Resource assignments: the sandbox follows the vendor's Assignments API, and the connector
reads the staffing plan and assigns consultants idempotently."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pshub.connectors.errors import RejectedError
from pshub.connectors.kantata import KantataConnector
from pshub.domain.projects import Project
from pshub.domain.staffing import minutes_by_month

from . import spec_check


def _checked(response: httpx.Response) -> dict[str, Any]:
    body = response.json() if response.content else None
    if spec_check.available():
        spec_check.check_response(
            response.request.method, str(response.url), response.status_code, body
        )
    return body or {}


def test_assigning_the_same_consultant_twice_updates_one_assignment(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    ref = connector.upsert_project(project, "Acme Corp")
    design = ref.task_ids[project.tasks[0].id]
    first = connector.assign(design, "2003", 6000)
    again = connector.assign(design, "2003", 9000)
    assert first == again
    rows = _checked(api.get("/api/v1/assignments.json", params={"story_id": design}))
    assert rows["count"] == 1
    assert rows["assignments"][first]["estimated_minutes"] == 9000


def test_the_staffing_plan_spans_the_project_window_when_the_task_has_no_dates(
    connector: KantataConnector, project: Project
) -> None:
    ref = connector.upsert_project(project, "Acme Corp")
    connector.assign(ref.task_ids[project.tasks[0].id], "2003", 6000)
    connector.assign(ref.task_ids[project.tasks[1].id], "2004", 12000)
    planned = sorted(connector.planned_work([ref.project_id]), key=lambda w: w.user_id)
    assert [(w.user_id, w.estimated_minutes) for w in planned] == [("2003", 6000), ("2004", 12000)]
    assert {(w.start, w.end) for w in planned} == {(project.start_date, project.end_date)}
    assert sum(minutes_by_month(planned[1]).values()) == 12000
    assert connector.planned_work(["999999"]) == []


def test_an_ended_assignment_is_not_planned(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    ref = connector.upsert_project(project, "Acme Corp")
    aid = connector.assign(ref.task_ids[project.tasks[0].id], "2003", 6000)
    _checked(api.put(f"/api/v1/assignments/{aid}.json", json={"assignment": {"current": False}}))
    assert connector.planned_work([ref.project_id]) == []
    ended = _checked(api.get("/api/v1/assignments.json", params={"uncurrent": "true"}))
    assert ended["results"] == [{"key": "assignments", "id": aid}]


def test_an_assignment_without_a_task_or_user_is_refused_naming_the_fields(
    api: httpx.Client, connector: KantataConnector
) -> None:
    answer = api.post("/api/v1/assignments.json", json={"assignment": {"estimated_minutes": -5}})
    body = _checked(answer)
    assert answer.status_code == 422
    assert {e["field"] for e in body["errors"]} == {"story_id", "assignee_id", "estimated_minutes"}
    with pytest.raises(RejectedError):
        connector.assign("424242", "2003", 60)


@pytest.mark.skipif(not spec_check.available(), reason="Kantata OpenAPI files not found")
def test_assignment_answers_follow_the_assignments_spec(
    api: httpx.Client, connector: KantataConnector, project: Project
) -> None:
    ref = connector.upsert_project(project, "Acme Corp")
    story = ref.task_ids[project.tasks[0].id]
    body = {"assignment": {"story_id": int(story), "assignee_id": 2003, "estimated_minutes": 600}}
    spec_check.check_request("POST", "/api/v1/assignments.json", body)
    created = _checked(api.post("/api/v1/assignments.json?include=story,assignee", json=body))
    aid = created["results"][0]["id"]
    _checked(api.get(f"/api/v1/assignments/{aid}.json", params={"include": "story"}))
    _checked(api.get("/api/v1/assignments.json", params={"workspace_id": ref.project_id}))
    assert _checked(api.get("/api/v1/assignments/1.json"))["errors"]
