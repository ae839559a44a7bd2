"""Delivery records read from the PSA: time entries, expenses and the changes that carry them.

Pure canonical models (no I/O). ``version`` is the PSA's own ordering of changes to one record
(for Kantata: the id of the change event that produced this state), so a later edit, approval
or un-approval of the same entry always has a higher version and a replayed one the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")

ChangeKind = Literal["time_entry", "expense", "approval", "task", "project"]
ChangeAction = Literal["created", "updated", "deleted"]
ApprovalStatus = Literal["pending", "approved", "rejected", "cancelled"]
MINUTES_PER_HOUR = Decimal(60)


def hours_from_minutes(minutes: int) -> Decimal:
    """Hours for whole minutes: exact whenever a decimal can hold it (90 -> 1.5, 45 -> 0.75);
    a non-terminating one (20 -> 0.333...) is rounded at 28 digits, which is why
    :class:`TimeEntry` also keeps ``minutes``, the exact quantity to price from."""
    return (Decimal(minutes) / MINUTES_PER_HOUR).normalize()


def _utc(value: datetime | None, name: str = "approved_at") -> datetime | None:
    """Instants are UTC: an aware time is converted, a naive one refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"{name}: must be an aware UTC instant")
    return value.astimezone(UTC)


class TimeEntry(BaseModel):
    """Hours by a consultant on a project/task on a date; approved or not."""

    model_config = _FROZEN

    id: str
    source_id: str
    version: int
    project_source_id: str
    task_source_id: str | None = None
    user_source_id: str
    role: str | None = None
    work_date: date
    minutes: int
    hours: Decimal
    billable: bool
    approved: bool
    approved_at: datetime | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _hours_match_minutes(self) -> TimeEntry:
        if self.minutes < 0 or self.hours != hours_from_minutes(self.minutes):
            raise ValueError("hours: must equal minutes / 60 (minutes >= 0)")
        return self

    @field_validator("approved_at")
    @classmethod
    def _approved_at_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class ExpenseEntry(BaseModel):
    """A reimbursable or billable cost on a project."""

    model_config = _FROZEN

    id: str
    source_id: str
    version: int
    project_source_id: str
    task_source_id: str | None = None
    user_source_id: str
    work_date: date
    amount: Money
    category: str
    billable: bool
    approved: bool
    approved_at: datetime | None = None
    notes: str = ""

    @field_validator("approved_at")
    @classmethod
    def _approved_at_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class ApprovalDecision(BaseModel):
    """A timesheet (or expense report) submission and where its approval stands."""

    model_config = _FROZEN

    source_id: str
    project_source_id: str
    user_source_id: str | None = None
    status: ApprovalStatus
    entry_source_ids: tuple[str, ...] = ()


class TaskStatus(BaseModel):
    """A task or milestone's progress; ``completed`` is what milestone billing waits for."""

    model_config = _FROZEN

    source_id: str
    project_source_id: str
    name: str
    milestone: bool
    state: str
    completed: bool
    amount: Money | None = None


class ProjectBudget(BaseModel):
    """A project's budget as the PSA holds it."""

    model_config = _FROZEN

    project_source_id: str
    name: str
    budget: Money | None


ChangeRecord = TimeEntry | ExpenseEntry | ApprovalDecision | TaskStatus | ProjectBudget


class Change(BaseModel):
    """One change read from the PSA's change feed, in the feed's total order.

    ``cursor`` is the position after this change: handing it back resumes right after it.
    ``record`` is the state the change produced (the last known state for a deletion).
    """

    model_config = _FROZEN

    kind: ChangeKind
    source_id: str
    action: ChangeAction
    occurred_at: datetime
    cursor: str
    record: ChangeRecord | None = None

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at_utc(cls, value: datetime) -> datetime:
        moment = _utc(value, "occurred_at")
        assert moment is not None  # a datetime in, a datetime out
        return moment
