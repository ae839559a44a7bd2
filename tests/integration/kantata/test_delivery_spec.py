"""Time entries, expenses, approvals, billing milestones and subscribed events against the
vendor's OpenAPI files (responses of the sandbox, request bodies of the connector)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pshub.connectors.kantata import writes

from . import spec_check

pytestmark = pytest.mark.skipif(
    not spec_check.available(), reason="Kantata OpenAPI files not found (PSHUB_KANTATA_SPECS)"
)


def _checked(response: httpx.Response) -> dict[str, Any]:
    body = response.json() if response.content else None
    spec_check.check_response(
        response.request.method, str(response.url), response.status_code, body
    )
    return body or {}


def _entry(api: httpx.Client, workspace_id: str, story_id: str) -> str:
    body = _checked(
        api.post(
            "/api/v1/time_entries.json?include=workspace,user,story,role,external_references",
            json={
                "time_entry": {
                    "workspace_id": int(workspace_id),
                    "story_id": int(story_id),
                    "date_performed": "2025-03-03",
                    "time_in_minutes": 75,
                    "notes": "design review",
                    "external_reference": writes.simulation_ref("spec"),
                }
            },
        )
    )
    return str(body["results"][0]["id"])


def test_time_entry_answers_follow_the_time_entries_spec(
    api: httpx.Client, workspace_id: str, milestone_story_id: str
) -> None:
    tid = _entry(api, workspace_id, milestone_story_id)
    _checked(
        api.get(
            "/api/v1/time_entries.json",
            params={
                "workspace_id": workspace_id,
                "date_performed_between": "2025-03-01:2025-03-31",
                "include": "role,active_submission,story",
            },
        )
    )
    _checked(
        api.put(f"/api/v1/time_entries/{tid}.json", json={"time_entry": {"time_in_minutes": 60}})
    )
    _checked(
        api.get(f"/api/v1/time_entries/{tid}.json", params={"include": "recent_submission,user"})
    )
    assert _checked(api.post("/api/v1/time_entries.json", json={"time_entry": {}}))["errors"]
    _checked(api.delete(f"/api/v1/time_entries/{tid}.json"))


def test_an_approval_answer_follows_the_timesheet_approvals_spec(
    api: httpx.Client, workspace_id: str, milestone_story_id: str
) -> None:
    tid = _entry(api, workspace_id, milestone_story_id)
    submission = api.post(
        "/api/v1/timesheet_submissions.json",
        json={
            "timesheet_submission": {
                "workspace_id": int(workspace_id),
                "time_entry_ids": [int(tid)],
            }
        },
    ).json()["results"][0]["id"]
    body = _checked(
        api.post(
            "/api/v1/timesheet_approvals.json",
            json={"resolution": {"submission_ids": [int(submission)]}},
        )
    )
    assert body["resolutions"][0]["type"] == "approval"
    assert _checked(
        api.post(
            "/api/v1/timesheet_approvals.json",
            json={"resolution": {"submission_ids": [int(submission)]}},
        )
    )["errors"]
    spec_check.check_request(
        "POST",
        "/api/v1/timesheet_approvals.json",
        {"resolution": {"submission_ids": [int(submission)]}},
    )


def test_expense_answers_follow_the_expenses_spec(api: httpx.Client, workspace_id: str) -> None:
    created = _checked(
        api.post(
            "/api/v1/expenses.json?include=workspace",
            json={
                "expense": {
                    "workspace_id": int(workspace_id),
                    "date": "2025-03-05",
                    "category": "Travel",
                    "amount_in_cents": 23450,
                    "billable": True,
                }
            },
        )
    )
    eid = created["results"][0]["id"]
    _checked(
        api.get(
            "/api/v1/expenses.json",
            params={
                "workspace_id": workspace_id,
                "include": "active_submission,external_references",
            },
        )
    )
    _checked(api.put(f"/api/v1/expenses/{eid}.json", json={"expense": {"notes": "taxi"}}))
    _checked(api.delete(f"/api/v1/expenses/{eid}.json"))


def test_billing_milestone_answers_follow_the_billing_milestones_spec(
    api: httpx.Client, workspace_id: str, milestone_story_id: str
) -> None:
    fields = {
        "workspace_id": int(workspace_id),
        "title": "Go-live",
        "amount_in_cents": 900000,
        "billing_type": "upon_completion",
        "story_id": int(milestone_story_id),
    }
    created = _checked(
        api.post(
            "/api/v1/billing_milestones.json?include=external_references,story,workspace",
            json={"billing_milestone": fields},
        )
    )
    bid = created["results"][0]["id"]
    _checked(
        api.get(
            "/api/v1/billing_milestones.json",
            params={"workspace_ids": workspace_id, "include": "external_references"},
        )
    )
    ref = {
        "service_name": writes.INVOICE_SERVICE,
        "service_model": "invoice",
        "service_model_ref": "INV-7",
        "external_status": "posted",
    }
    update = {"billing_milestone": {"external_reference": ref}}
    spec_check.check_request("PUT", f"/api/v1/billing_milestones/{bid}.json", update)
    _checked(
        api.put(f"/api/v1/billing_milestones/{bid}.json?include=external_references", json=update)
    )
    _checked(api.get(f"/api/v1/billing_milestones/{bid}.json"))
    _checked(api.delete(f"/api/v1/billing_milestones/{bid}.json"))


def test_subscribed_event_answers_follow_the_events_spec(
    api: httpx.Client, workspace_id: str, milestone_story_id: str
) -> None:
    _entry(api, workspace_id, milestone_story_id)
    api.put(f"/api/v1/stories/{milestone_story_id}.json", json={"story": {"state": "completed"}})
    body = _checked(
        api.get(
            "/api/v1/subscribed_events.json",
            params={
                "include": "subject",
                "optional_fields": "current_payload,previous_payload,payload_changes",
                "order": "created_at:asc",
            },
        )
    )
    types = [body["subscribed_events"][r["id"]]["event_type"] for r in body["results"]]
    assert types == ["workspace:created", "story:created", "time_entry:created", "story:updated"]
    _checked(
        api.get(
            "/api/v1/subscribed_events.json",
            params={
                "subject_type": "Story",
                "subject_id": milestone_story_id,
                "most_recent": "true",
            },
        )
    )
    assert _checked(api.get("/api/v1/subscribed_events.json", params={"subject_id": "1"}))["errors"]


def test_the_connector_writes_time_entries_and_milestones_the_spec_accepts() -> None:
    entry = {
        "workspace_id": 1001,
        "date_performed": "2025-03-03",
        "time_in_minutes": 60,
        "story_id": 5,
        "external_reference": writes.simulation_ref("k"),
    }
    spec_check.check_request("POST", "/api/v1/time_entries.json", {"time_entry": entry})
    milestone = {
        "workspace_id": 1,
        "story_id": 2,
        "title": "M",
        "amount_in_cents": 100,
        "billing_type": "upon_completion",
    }
    spec_check.check_request(
        "POST", "/api/v1/billing_milestones.json", {"billing_milestone": milestone}
    )
