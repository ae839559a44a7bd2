"""Plain functions from Kantata delivery records and subscribed events to canonical records.

Hours come from ``time_in_minutes`` exactly (Decimal); expense money from ``amount_in_cents``
in the currency's minor units. ``version`` is the id of the subscribed event that produced the
state (strictly increasing per account), so an edit, an approval and an un-approval of one
entry each give a higher version. ``approved_at`` is the moment of the approving resolution:
the event's ``subject_changed_at`` in the feed, the submission's
``current_resolution_created_at_date`` when read from the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from pshub.connectors.kantata.mapping import from_cents
from pshub.connectors.kantata.models import (
    KantataEvent,
    KantataExpense,
    KantataSubmission,
    KantataTimeEntry,
)
from pshub.domain.delivery import (
    ApprovalDecision,
    ApprovalStatus,
    Change,
    ChangeAction,
    ChangeKind,
    ChangeRecord,
    ExpenseEntry,
    ProjectBudget,
    TaskStatus,
    TimeEntry,
    hours_from_minutes,
)
from pshub.domain.ids import canonical_id

SYSTEM = "kantata"
KINDS: dict[str, ChangeKind] = {
    "TimeEntry": "time_entry",
    "Expense": "expense",
    "TimesheetSubmission": "approval",
    "ExpenseReportSubmission": "approval",
    "Story": "task",
    "Workspace": "project",
}
COMPLETED_STATES = frozenset({"completed", "resolved", "fixed"})
_STATUSES: dict[str, ApprovalStatus] = {
    "pending": "pending",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
}
ACTIONS: dict[str, ChangeAction] = {
    "created": "created",
    "updated": "updated",
    "deleted": "deleted",
}


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_entry(
    entry: KantataTimeEntry, *, version: int, role: str | None, approved_at: datetime | None
) -> TimeEntry:
    return TimeEntry(
        id=canonical_id("time_entry", SYSTEM, entry.id),
        source_id=entry.id,
        version=version,
        project_source_id=entry.workspace_id,
        task_source_id=entry.story_id,
        user_source_id=entry.user_id,
        role=role,
        work_date=entry.date_performed,
        minutes=entry.time_in_minutes,
        hours=hours_from_minutes(entry.time_in_minutes),
        billable=entry.billable,
        approved=entry.approved,
        approved_at=utc(approved_at) if entry.approved and approved_at else None,
        notes=entry.notes or "",
    )


def expense(
    record: KantataExpense, *, version: int, approved: bool, approved_at: datetime | None
) -> ExpenseEntry:
    return ExpenseEntry(
        id=canonical_id("expense", SYSTEM, record.id),
        source_id=record.id,
        version=version,
        project_source_id=record.workspace_id,
        task_source_id=record.story_id,
        user_source_id=record.user_id,
        work_date=record.expense_date,
        amount=from_cents(record.amount_in_cents, record.currency),
        category=record.category,
        billable=record.is_billable,
        approved=approved,
        approved_at=utc(approved_at) if approved and approved_at else None,
        notes=record.notes or "",
    )


def approved_at(submission: KantataSubmission | None) -> datetime | None:
    """When the submission's approval was resolved, if it stands approved."""
    if submission is None or submission.status != "approved":
        return None
    return submission.current_resolution_created_at_date


def _approval(payload: Mapping[str, Any]) -> ApprovalDecision | None:
    sub = KantataSubmission.model_validate(payload)
    status = _STATUSES.get(sub.status)
    if status is None:
        return None
    return ApprovalDecision(
        source_id=sub.id,
        project_source_id=sub.workspace_id,
        user_source_id=sub.user_id,
        status=status,
        entry_source_ids=tuple(sub.time_entry_ids or sub.expense_ids),
    )


def _task(payload: Mapping[str, Any]) -> TaskStatus:
    state = str(payload.get("state") or "not started")
    currency = payload.get("currency")
    cents = payload.get("budget_estimate_in_cents")
    return TaskStatus(
        source_id=str(payload["id"]),
        project_source_id=str(payload["workspace_id"]),
        name=str(payload.get("title") or ""),
        milestone=payload.get("story_type") == "milestone",
        state=state,
        completed=state in COMPLETED_STATES,
        amount=from_cents(int(cents), str(currency)) if cents is not None and currency else None,
    )


def _project(payload: Mapping[str, Any]) -> ProjectBudget:
    cents, currency = payload.get("price_in_cents"), payload.get("currency")
    return ProjectBudget(
        project_source_id=str(payload["id"]),
        name=str(payload.get("title") or ""),
        budget=from_cents(int(cents), str(currency)) if cents is not None and currency else None,
    )


def change_record(event: KantataEvent, roles: Mapping[str, str]) -> ChangeRecord | None:
    """The canonical state an event carries (``roles``: role id -> name)."""
    payload = event.payload()
    if not payload:
        return None
    moment = utc(event.subject_changed_at or event.created_at)
    try:
        if event.subject_type == "TimeEntry":
            entry = KantataTimeEntry.model_validate(payload)
            role = roles.get(entry.role_id or "")
            return time_entry(entry, version=int(event.id), role=role, approved_at=moment)
        if event.subject_type == "Expense":
            exp = KantataExpense.model_validate(payload)
            return expense(exp, version=int(event.id), approved=exp.approved, approved_at=moment)
        if event.subject_type in ("TimesheetSubmission", "ExpenseReportSubmission"):
            return _approval(payload)
        if event.subject_type == "Story":
            return _task(payload)
        if event.subject_type == "Workspace":
            return _project(payload)
    except (ValidationError, KeyError, ValueError):
        return None  # a payload we cannot read still moves the cursor; the kind says what
    return None


def change(event: KantataEvent, roles: Mapping[str, str]) -> Change | None:
    """One canonical change, or None for subject types the hub does not follow."""
    kind, action = KINDS.get(event.subject_type), ACTIONS.get(event.action)
    if kind is None or action is None:
        return None
    return Change(
        kind=kind,
        source_id=str(event.subject_id),
        action=action,
        occurred_at=utc(event.subject_changed_at or event.created_at),
        cursor=event.id,
        record=change_record(event, roles),
    )
