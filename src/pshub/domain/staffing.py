"""Staffing: who is planned on which project, for how long — the PSA's resource assignments.

A :class:`PlannedWork` is one PSA assignment (a consultant on a task, with the minutes they are
estimated to work) and the window the work falls in (the task's dates, else its project's).
:func:`minutes_by_month` spreads the estimate over that window in proportion to calendar days,
in whole minutes that sum back to the estimate (largest remainder), so forecast hours are
exact and traceable to the assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class PlannedWork:
    """One PSA assignment with the window its estimated minutes fall in."""

    assignment_id: str
    psa_project_id: str
    story_id: str
    user_id: str
    estimated_minutes: int
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.estimated_minutes < 0:
            raise ValueError(f"assignment {self.assignment_id}: estimated_minutes < 0")
        if self.end < self.start:
            raise ValueError(f"assignment {self.assignment_id}: window ends before it starts")


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def days_by_month(start: date, end: date) -> dict[str, int]:
    """Calendar days of ``start..end`` (inclusive) in each month, in month order."""
    out: dict[str, int] = {}
    cursor = start
    while cursor <= end:
        stop = min(_next_month(cursor) - timedelta(days=1), end)
        out[_month(cursor)] = (stop - cursor).days + 1
        cursor = stop + timedelta(days=1)
    return out


def minutes_by_month(work: PlannedWork) -> dict[str, int]:
    """The estimate spread over the window by calendar days; the parts sum to the estimate."""
    days = days_by_month(work.start, work.end)
    total_days = sum(days.values())
    shares = {m: work.estimated_minutes * d // total_days for m, d in days.items()}
    remainders = sorted(days, key=lambda m: (-(work.estimated_minutes * days[m] % total_days), m))
    for month in remainders[: work.estimated_minutes - sum(shares.values())]:
        shares[month] += 1
    return shares
