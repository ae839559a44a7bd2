"""Time entries, expenses, approvals and billing milestones on the wire: validation, filters."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from pshub.connectors.errors import RejectedError
from pshub.connectors.kantata import KantataConnector


def _fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return {e["field"] for e in response.json()["errors"]}


def _entry(api: httpx.Client, workspace_id: str, day: str = "2025-03-03", minutes: int = 60) -> str:
    body = {"workspace_id": int(workspace_id), "date_performed": day, "time_in_minutes": minutes}
    return str(
        api.post("/api/v1/time_entries.json", json={"time_entry": body}).json()["results"][0]["id"]
    )


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"time_in_minutes": -30}, {"time_in_minutes"}),
        ({"time_in_minutes": 1441}, {"time_in_minutes"}),
        ({"workspace_id": 424242}, {"workspace_id"}),
        ({"date_performed": "03/03/2025"}, {"date_performed"}),
        ({"story_id": 999999, "billable": "yes"}, {"story_id", "billable"}),
        ({"user_id": 1, "role_id": 9}, {"user_id", "role_id"}),
    ],
)
def test_an_invalid_time_entry_is_refused_with_422_naming_each_field(
    api: httpx.Client, workspace_id: str, fields: dict[str, object], named: set[str]
) -> None:
    body = {
        "workspace_id": int(workspace_id),
        "date_performed": "2025-03-03",
        "time_in_minutes": 60,
        **fields,
    }
    assert _fields(api.post("/api/v1/time_entries.json", json={"time_entry": body})) == named


def test_an_expense_without_category_or_with_a_negative_amount_names_those_fields(
    api: httpx.Client, workspace_id: str
) -> None:
    body = {"workspace_id": int(workspace_id), "date": "2025-03-03", "amount_in_cents": -1}
    assert _fields(api.post("/api/v1/expenses.json", json={"expense": body})) == {
        "category",
        "amount_in_cents",
    }


def test_a_billing_milestone_upon_completion_needs_a_story(
    api: httpx.Client, workspace_id: str
) -> None:
    body = {
        "workspace_id": int(workspace_id),
        "title": "M",
        "amount_in_cents": 10,
        "billing_type": "upon_completion",
    }
    assert _fields(
        api.post("/api/v1/billing_milestones.json", json={"billing_milestone": body})
    ) == {"story_id"}


def test_an_entry_on_an_approved_timesheet_is_locked_until_the_timesheet_is_rejected(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    entry = _entry(api, workspace_id)
    connector.approve([entry])
    assert _fields(
        api.put(f"/api/v1/time_entries/{entry}.json", json={"time_entry": {"notes": "x"}})
    ) == {"base"}
    assert _fields(api.delete(f"/api/v1/time_entries/{entry}.json")) == {"base"}
    connector.unapprove([entry])
    assert (
        api.put(
            f"/api/v1/time_entries/{entry}.json", json={"time_entry": {"notes": "x"}}
        ).status_code
        == 200
    )


def test_a_second_approval_of_the_same_submission_is_refused_naming_submission_ids(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    [submission] = connector.approve([_entry(api, workspace_id)])
    again = {"resolution": {"submission_ids": [int(submission)]}}
    assert _fields(api.post("/api/v1/timesheet_approvals.json", json=again)) == {"submission_ids"}


def test_the_connector_raises_rejected_naming_the_field_of_a_bad_time_entry(
    connector: KantataConnector, workspace_id: str
) -> None:
    with pytest.raises(RejectedError) as caught:
        connector.create_time_entry(workspace_id, date(2025, 3, 3), -15, key="negative")
    assert (caught.value.status, caught.value.fields) == (422, ("time_in_minutes",))


def test_time_entries_filter_by_workspace_date_range_and_approval(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    other = api.post("/api/v1/workspaces.json", json={"workspace": {"title": "Other"}}).json()[
        "results"
    ][0]["id"]
    march = [_entry(api, workspace_id, f"2025-03-{d:02d}") for d in (3, 4, 5)]
    _entry(api, workspace_id, "2025-04-01")
    _entry(api, other, "2025-03-03")
    connector.approve(march[:1])

    def ids(**params: str) -> list[str]:
        return [
            r["id"] for r in api.get("/api/v1/time_entries.json", params=params).json()["results"]
        ]

    assert (
        ids(workspace_id=workspace_id, date_performed_between="2025-03-01:2025-03-31")
        == march[::-1]
    )
    assert ids(workspace_id=workspace_id, approved="true") == march[:1]
    assert len(ids(workspace_ids=f"{workspace_id},{other}", per_page="200")) == 5


def test_bulk_delete_is_all_or_nothing(api: httpx.Client, workspace_id: str) -> None:
    keep = [_entry(api, workspace_id) for _ in range(2)]
    refused = api.delete("/api/v1/time_entries.json", params={"ids": f"{keep[0]},424242"})
    assert refused.status_code == 404
    assert (
        api.delete("/api/v1/time_entries.json", params={"ids": ",".join(keep)}).status_code == 204
    )
    assert api.get("/api/v1/time_entries.json").json()["count"] == 0


def test_the_bulk_seeding_route_names_a_bad_entry_by_its_index(
    api: httpx.Client, workspace_id: str
) -> None:
    entries = [
        {"workspace_id": workspace_id, "date_performed": "2025-03-03", "time_in_minutes": 60}
    ] * 2
    entries = [
        *entries,
        {"workspace_id": "9", "date_performed": "2025-03-03", "time_in_minutes": -1},
    ]
    assert _fields(api.post("/_sandbox/bulk/time_entries", json={"time_entries": entries})) == {
        "time_entries[2].workspace_id",
        "time_entries[2].time_in_minutes",
    }
