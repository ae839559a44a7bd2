"""Sandbox answers and connector requests validated against the vendor's OpenAPI files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pshub.connectors.kantata import mapping
from pshub.domain.projects import Project
from pshub.sandboxes.server import ThreadedServer

from . import spec_check

if spec_check.REQUIRED and not spec_check.available():
    raise RuntimeError(f"Kantata OpenAPI files are required in CI: {spec_check.SPEC_DIR}")

pytestmark = pytest.mark.skipif(
    not spec_check.available(), reason="Kantata OpenAPI files not found (PSHUB_KANTATA_SPECS)"
)

REF = {
    "service_name": "pshub",
    "service_model": "project",
    "service_model_ref": "PSHUB-p1",
    "status": "successful",
}


def _checked(response: httpx.Response) -> dict[str, Any]:
    body = response.json() if response.content else None
    spec_check.check_response(
        response.request.method, str(response.url), response.status_code, body
    )
    return body or {}


def _workspace(api: httpx.Client) -> str:
    body = _checked(
        api.post(
            "/api/v1/workspaces.json?include=external_references,custom_field_values",
            json={
                "workspace": {
                    "title": "Spec",
                    "price": 5000,
                    "currency": "EUR",
                    "start_date": "2025-01-06",
                    "due_date": "2025-04-30",
                    "external_reference": REF,
                    "custom_fields": [{"custom_field_id": 101, "value": "Acme"}],
                }
            },
        )
    )
    return str(body["results"][0]["id"])


def test_workspace_answers_follow_the_workspaces_spec(api: httpx.Client) -> None:
    wid = _workspace(api)
    _checked(
        api.get(
            "/api/v1/workspaces.json", params={"include": "external_references,custom_field_values"}
        )
    )
    _checked(api.get(f"/api/v1/workspaces/{wid}.json"))
    _checked(api.put(f"/api/v1/workspaces/{wid}.json", json={"workspace": {"price": 6000}}))
    _checked(api.delete(f"/api/v1/workspaces/{wid}.json"))


def test_story_answers_follow_the_stories_spec(api: httpx.Client) -> None:
    wid = _workspace(api)
    created = _checked(
        api.post(
            "/api/v1/stories.json?include=external_references,workspace",
            json={
                "stories": [
                    {"workspace_id": int(wid), "title": "Build", "story_type": "task"},
                    {
                        "workspace_id": int(wid),
                        "title": "Go-live",
                        "story_type": "milestone",
                        "budget_estimate_in_cents": 250000,
                        "due_date": "2025-04-30",
                        "external_reference": {**REF, "service_model": "milestone"},
                    },
                ]
            },
        )
    )
    sid = created["results"][1]["id"]
    _checked(
        api.get(
            "/api/v1/stories.json", params={"workspace_id": wid, "include": "external_references"}
        )
    )
    _checked(api.put(f"/api/v1/stories/{sid}.json", json={"story": {"state": "completed"}}))
    _checked(api.get(f"/api/v1/stories/{sid}.json", params={"include": "parent,workspace"}))
    _checked(api.delete(f"/api/v1/stories/{sid}.json"))


def test_user_answers_follow_the_users_spec(api: httpx.Client) -> None:
    _checked(api.get("/api/v1/users.json"))
    _checked(api.get("/api/v1/users/me.json"))


def test_error_answers_follow_the_errors_schema(api: httpx.Client, sandbox: ThreadedServer) -> None:
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as anonymous:
        assert _checked(anonymous.get("/api/v1/workspaces.json"))["errors"]
    assert _checked(api.post("/api/v1/workspaces.json", json={"workspace": {}}))["errors"]
    assert _checked(api.get("/api/v1/stories/999999.json"))["errors"]
    api.post("/_sandbox/outage", json={"seconds": 60})
    assert _checked(api.get("/api/v1/users.json"))["errors"]


def test_the_connector_writes_request_bodies_the_spec_accepts(project: Project) -> None:
    workspace = mapping.workspace_fields(project, "Acme Corp", {"client": 101})
    workspace["external_reference"] = mapping.external_reference("project", project.id)
    spec_check.check_request("POST", "/api/v1/workspaces.json", {"workspace": workspace})
    spec_check.check_request("PUT", "/api/v1/workspaces/1.json", {"workspace": workspace})
    stories = [
        mapping.task_story(project.tasks[0], "1001"),
        mapping.milestone_story(project.milestones[0], "1001"),
    ]
    for story in stories:
        spec_check.check_request("POST", "/api/v1/stories.json", {"story": story})


def test_the_checker_rejects_a_response_that_breaks_the_schema() -> None:
    broken = {
        "count": 1,
        "results": [{"key": "workspaces", "id": "1"}],
        "workspaces": {"1": {"id": "1", "price_in_cents": "a lot"}},
    }
    with pytest.raises(spec_check.SpecMismatch, match=r"is not of type .integer."):
        spec_check.check_response("GET", "/api/v1/workspaces.json", 200, broken)
