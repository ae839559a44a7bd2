"""The KPIs finance runs on, computed from what the flows record.

Each KPI is a function of a session registered in :data:`KPIS`; flows built later add
theirs with :func:`register` (time to bill, days sales outstanding, ...), and the KPI page
renders every registered one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pshub.console.queries import percentile
from pshub.store.tables import FlowRun, InboxEvent

MAX_ROWS = 5000


@dataclass
class Kpi:
    key: str
    title: str
    unit: str
    headline: float | None  # e.g. the median
    headline_label: str
    series: list[tuple[str, float]] = field(default_factory=list)  # (day, value)
    note: str = ""


KpiFn = Callable[[Session, datetime], Kpi]
KPIS: list[KpiFn] = []


def register(fn: KpiFn) -> KpiFn:
    KPIS.append(fn)
    return fn


def _daily(
    points: list[tuple[datetime, float]], days: int, now: datetime
) -> list[tuple[str, float]]:
    """Median per day over the last ``days`` days (0 where a day had none)."""
    buckets: dict[str, list[float]] = {}
    for at, value in points:
        buckets.setdefault(at.date().isoformat(), []).append(value)
    out = []
    for i in range(days - 1, -1, -1):
        day = (now - timedelta(days=i)).date().isoformat()
        out.append((day, percentile(buckets.get(day, []), 50) or 0.0))
    return out


@register
def deal_to_project_time(s: Session, now: datetime) -> Kpi:
    """Seconds from the CRM's closed-won event reaching the hub to the project provisioned."""
    rows = s.execute(
        select(FlowRun.correlation_id, FlowRun.finished_at, InboxEvent.received_at)
        .join(InboxEvent, InboxEvent.id == FlowRun.inbox_id)
        .where(
            FlowRun.flow == "deal_to_project",
            FlowRun.status == "completed",
            FlowRun.finished_at >= now - timedelta(days=30),
        )
        .order_by(FlowRun.finished_at.desc())
        .limit(MAX_ROWS)
    ).all()
    first: dict[str, tuple[datetime, float]] = {}
    for cid, finished, received in rows:
        if finished is None:
            continue
        first[cid] = (finished, (finished - received).total_seconds())
    points = list(first.values())
    return Kpi(
        key="deal_close_to_project",
        title="Deal closed to project provisioned",
        unit=" s",
        headline=percentile([v for _, v in points], 50),
        headline_label=f"median of {len(points)} deals, last 30 days",
        series=_daily(points, 14, now),
        note="From the closed-won event's arrival to the PSA project and ERP job existing, "
        "including time spent waiting on exceptions.",
    )


@register
def first_time_right(s: Session, now: datetime) -> Kpi:
    """Share of runs that completed without an exception or a failure, per day."""
    rows = s.execute(
        select(FlowRun.started_at, FlowRun.status)
        .where(FlowRun.started_at >= now - timedelta(days=14))
        .order_by(FlowRun.started_at.desc())
        .limit(MAX_ROWS * 4)
    ).all()
    points = [(at, 100.0 if status == "completed" else 0.0) for at, status in rows]
    by_day: dict[str, list[float]] = {}
    for at, v in points:
        by_day.setdefault(at.date().isoformat(), []).append(v)
    series = []
    for i in range(13, -1, -1):
        day = (now - timedelta(days=i)).date().isoformat()
        values = by_day.get(day, [])
        series.append((day, sum(values) / len(values) if values else 0.0))
    done = [v for _, v in points]
    return Kpi(
        key="first_time_right",
        title="Runs completed first time",
        unit=" %",
        headline=sum(done) / len(done) if done else None,
        headline_label=f"of {len(done)} runs, all flows, last 14 days",
        series=series,
        note="A run that raised a business exception or dead-lettered counts against it.",
    )
