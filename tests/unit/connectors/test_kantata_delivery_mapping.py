"""Kantata delivery mapping: events to canonical changes, exact hours and money, versions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from pshub.connectors.kantata import delivery_mapping as dm
from pshub.connectors.kantata.models import KantataEvent
from pshub.domain.delivery import (
    ApprovalDecision,
    ExpenseEntry,
    ProjectBudget,
    TaskStatus,
    TimeEntry,
    hours_from_minutes,
)
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money

ENTRY = {
    "id": "800001",
    "workspace_id": "1001",
    "user_id": "2002",
    "story_id": "50001",
    "role_id": "302",
    "date_performed": "2025-03-03",
    "time_in_minutes": 90,
    "billable": True,
    "approved": True,
    "notes": "build",
}


def _event(
    event_type: str,
    subject_type: str,
    current: dict[str, Any] | None,
    previous: dict[str, Any] | None = None,
    ev_id: str = "17",
) -> KantataEvent:
    return KantataEvent.model_validate(
        {
            "id": ev_id,
            "event_type": event_type,
            "subject_type": subject_type,
            "subject_id": int((current or previous or {"id": 1})["id"]),
            "created_at": "2025-03-04T10:00:00-05:00",
            "subject_changed_at": "2025-03-04T10:00:00-05:00",
            "current_payload": json.dumps(current) if current else None,
            "previous_payload": json.dumps(previous) if previous else None,
        }
    )


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [(90, "1.5"), (45, "0.75"), (1, "0.01666666666666666666666666667"), (0, "0"), (480, "8")],
)
def test_hours_come_from_minutes_without_float(minutes: int, hours: str) -> None:
    assert hours_from_minutes(minutes) == Decimal(hours)


def test_an_approved_time_entry_event_maps_to_a_versioned_canonical_entry() -> None:
    change = dm.change(
        _event("time_entry:updated", "TimeEntry", ENTRY), {"302": "Senior Consultant"}
    )
    assert change is not None and (change.kind, change.action, change.cursor) == (
        "time_entry",
        "updated",
        "17",
    )
    entry = change.record
    assert isinstance(entry, TimeEntry)
    assert entry.id == canonical_id("time_entry", "kantata", "800001")
    assert (entry.version, entry.hours, entry.minutes, entry.role) == (
        17,
        Decimal("1.5"),
        90,
        "Senior Consultant",
    )
    assert (entry.project_source_id, entry.task_source_id, entry.user_source_id) == (
        "1001",
        "50001",
        "2002",
    )
    assert entry.approved_at == datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
    assert change.occurred_at.tzinfo == UTC


def test_a_deleted_entry_carries_its_last_known_state() -> None:
    change = dm.change(
        _event("time_entry:deleted", "TimeEntry", None, {**ENTRY, "approved": False}), {}
    )
    assert change is not None and change.action == "deleted"
    assert isinstance(change.record, TimeEntry) and change.record.approved_at is None


def test_an_expense_event_maps_amount_in_minor_units_exactly() -> None:
    payload = {
        "id": "40001",
        "workspace_id": "1001",
        "user_id": "2001",
        "date": "2025-03-05",
        "category": "Travel",
        "amount_in_cents": 12345,
        "currency": "JPY",
        "is_billable": False,
        "approved": False,
    }
    change = dm.change(_event("expense:created", "Expense", payload), {})
    assert change is not None and isinstance(change.record, ExpenseEntry)
    assert change.record.amount == Money.of("12345", "JPY")
    assert (change.record.billable, change.record.work_date) == (False, date(2025, 3, 5))


def test_submission_story_and_workspace_events_map_to_approval_task_and_project() -> None:
    sub = {
        "id": "60001",
        "workspace_id": "1001",
        "user_id": "2001",
        "status": "rejected",
        "time_entry_ids": ["1", "2"],
    }
    story = {
        "id": "50001",
        "workspace_id": "1001",
        "title": "Go-live",
        "story_type": "milestone",
        "state": "completed",
    }
    space = {"id": "1001", "title": "Acme", "price_in_cents": 6500050, "currency": "USD"}
    approval = dm.change(_event("timesheet_submission:updated", "TimesheetSubmission", sub), {})
    task = dm.change(_event("story:updated", "Story", story), {})
    project = dm.change(_event("workspace:updated", "Workspace", space), {})
    assert approval and approval.record == ApprovalDecision(
        source_id="60001",
        project_source_id="1001",
        user_source_id="2001",
        status="rejected",
        entry_source_ids=("1", "2"),
    )
    assert (
        task
        and isinstance(task.record, TaskStatus)
        and task.record.completed
        and task.record.milestone
    )
    assert project and project.record == ProjectBudget(
        project_source_id="1001", name="Acme", budget=Money.of("65000.50", "USD")
    )


def test_events_of_subjects_the_hub_does_not_follow_are_skipped() -> None:
    assert dm.change(_event("workweek:updated", "Workweek", {"id": "3"}), {}) is None


def test_canonical_entries_are_frozen_refuse_extra_fields_and_need_utc_instants() -> None:
    fields: dict[str, Any] = {
        "id": "tim_1",
        "source_id": "1",
        "version": 1,
        "project_source_id": "1",
        "user_source_id": "2",
        "work_date": date(2025, 3, 3),
        "minutes": 30,
        "hours": Decimal("0.5"),
        "billable": True,
        "approved": False,
    }
    entry = TimeEntry(**fields)
    with pytest.raises(ValidationError):
        entry.hours = Decimal(1)
    with pytest.raises(ValidationError, match="extra"):
        TimeEntry(**fields, rate=Decimal(1))
    with pytest.raises(ValidationError, match="hours"):
        TimeEntry(**{**fields, "hours": Decimal("0.6")})
    with pytest.raises(ValidationError, match="approved_at"):
        TimeEntry(**fields, approved_at=datetime(2025, 3, 3, 9, 0))
    plus_two = timezone(timedelta(hours=2))
    later = TimeEntry(**fields, approved_at=datetime(2025, 3, 3, 11, 0, tzinfo=plus_two))
    assert later.approved_at == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
