"""KantataConnector delivery reads and writes against the sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx

from pshub.connectors.kantata import KantataConnector
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money


def test_bulk_fetch_by_ids_crosses_the_200_per_request_page_and_maps_exactly(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    seeded = api.post(
        "/_sandbox/bulk/time_entries",
        json={"generate": {"count": 250, "workspace_ids": [workspace_id]}, "approve": True},
    ).json()
    ids = [str(n) for n in range(int(seeded["first_id"]), int(seeded["last_id"]) + 1)]
    entries = connector.time_entries([*ids, "424242"])
    assert [e.source_id for e in entries] == ids
    first = entries[0]
    assert first.id == canonical_id("time_entry", "kantata", first.source_id)
    assert first.hours == Decimal(first.minutes) / 60
    assert first.approved and first.approved_at is not None and first.version > 0
    assert first.project_source_id == workspace_id and first.role is not None


def test_a_time_entry_carries_its_task_user_role_and_hours(
    connector: KantataConnector, workspace_id: str, milestone_story_id: str
) -> None:
    entry_id = connector.create_time_entry(
        workspace_id, date(2025, 3, 3), 45, key="k1", story_id=milestone_story_id, notes="review"
    )
    [entry] = connector.time_entries([entry_id])
    assert (entry.task_source_id, entry.user_source_id, entry.role) == (
        milestone_story_id,
        "2001",
        "Engagement Manager",
    )
    assert (entry.hours, entry.work_date, entry.notes, entry.billable) == (
        Decimal("0.75"),
        date(2025, 3, 3),
        "review",
        True,
    )
    assert (entry.approved, entry.approved_at) == (False, None)


def test_creating_a_simulated_entry_twice_with_one_key_keeps_one_entry(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    first = connector.create_time_entry(workspace_id, date(2025, 3, 3), 60, key="same")
    second = connector.create_time_entry(workspace_id, date(2025, 3, 3), 60, key="same")
    assert first == second
    assert api.get("/api/v1/time_entries.json").json()["count"] == 1


def test_expenses_are_fetched_with_exact_money_and_their_approval(
    api: httpx.Client, connector: KantataConnector, workspace_id: str
) -> None:
    body = {
        "workspace_id": int(workspace_id),
        "date": "2025-03-05",
        "category": "Lodging",
        "amount_in_cents": 18999,
        "billable": False,
    }
    eid = api.post("/api/v1/expenses.json", json={"expense": body}).json()["results"][0]["id"]
    submission = api.post(
        "/api/v1/expense_report_submissions.json",
        json={
            "expense_report_submission": {
                "workspace_id": int(workspace_id),
                "expense_ids": [int(eid)],
            }
        },
    ).json()["results"][0]["id"]
    api.post(
        "/api/v1/expense_report_approvals.json",
        json={"resolution": {"submission_ids": [int(submission)]}},
    )
    [expense] = connector.expenses([eid])
    assert expense.amount == Money.of("189.99", "USD")
    assert (expense.category, expense.billable, expense.approved) == ("Lodging", False, True)
    assert expense.approved_at is not None
    changes, _ = connector.changes(None, 200)
    versions = [
        c.record.version
        for c in changes
        if c.kind == "expense" and c.record is not None and hasattr(c.record, "version")
    ]
    assert versions[-1] == expense.version


def test_the_invoice_status_is_written_on_the_milestone_s_billing_milestone(
    api: httpx.Client, connector: KantataConnector, workspace_id: str, milestone_story_id: str
) -> None:
    mid = canonical_id("milestone", "prj_1", "m1")
    created = connector.create_billing_milestone(
        workspace_id, milestone_story_id, "Go-live", Money.of("9000.00", "USD"), mid
    )
    again = connector.create_billing_milestone(
        workspace_id, milestone_story_id, "Go-live", Money.of("9000.00", "USD"), mid
    )
    assert created == again == connector.billing_milestone_for_story(milestone_story_id)
    connector.set_milestone_invoice_status(created, "INV-1042", "posted")
    connector.set_milestone_invoice_status(created, "INV-1042", "paid")
    found = api.get(
        "/api/v1/billing_milestones.json",
        params={
            "external_reference_service_name": "pshub-invoice",
            "external_reference_external_status": "paid",
            "include": "external_references",
        },
    ).json()
    assert found["results"] == [{"key": "billing_milestones", "id": created}]
    statuses = {
        r["service_name"]: r.get("external_status") for r in found["external_references"].values()
    }
    assert statuses == {"pshub": None, "pshub-invoice": "paid"}
    assert found["billing_milestones"][created]["amount_in_cents"] == 900000
