"""Read models of the console pages. Generic over flows: anything a flow records in
``flow_runs``, ``business_exceptions`` and ``audit_log`` shows up without console changes.

Every list is bounded (LIMIT, keyset on ids) and filtered on indexed columns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from pshub.domain.money import MINOR_UNITS, quantum
from pshub.store import repos
from pshub.store.tables import AuditEntry, BusinessException, FlowRun

T = TypeVar("T")
WINDOW_ROWS = 20_000  # most runs one page looks at to compute latency percentiles
SUMMARY_TTL = 5.0  # seconds a dashboard aggregate may be reused

_summaries: dict[tuple[Any, ...], tuple[float, Any]] = {}
_summaries_lock = threading.Lock()


def summary(s: Session, name: str, fn: Callable[[], T], *key: Any) -> T:
    """``fn()`` reused for a few seconds: aggregates over the whole table (money held back,
    facet values, 24 h flow health) are what makes a page slow at 100,000 exceptions, and a
    dashboard a few seconds old is still right. Lists and details are always read fresh."""
    full = (str(s.get_bind().engine.url), name, *key)
    now = time.monotonic()
    with _summaries_lock:
        hit = _summaries.get(full)
        if hit is not None and now - hit[0] < SUMMARY_TTL:
            return cast(T, hit[1])
    value = fn()
    with _summaries_lock:
        if len(_summaries) > 256:
            _summaries.clear()
        _summaries[full] = (now, value)
    return value


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- overview --------------------------------------------------------------------------------


@dataclass
class FlowHealth:
    flow: str
    statuses: dict[str, int]
    runs_24h: int = 0
    failed_24h: int = 0
    p50: float | None = None
    p95: float | None = None
    hourly: list[int] = field(default_factory=lambda: [0] * 24)

    @property
    def healthy(self) -> bool:
        return self.failed_24h == 0


def flow_health(s: Session, now: datetime) -> list[FlowHealth]:
    """Throughput, latency and failures per flow over the last 24 hours."""
    return summary(s, "flow_health", lambda: _flow_health(s, now))


def _flow_health(s: Session, now: datetime) -> list[FlowHealth]:
    since = now - timedelta(hours=24)
    health = {f: FlowHealth(f, st) for f, st in sorted(repos.run_counts(s).items())}
    rows = s.execute(
        select(FlowRun.flow, FlowRun.status, FlowRun.started_at, FlowRun.finished_at)
        .where(FlowRun.started_at >= since)
        .order_by(FlowRun.started_at.desc())
        .limit(WINDOW_ROWS)
    ).all()
    durations: dict[str, list[float]] = {}
    for flow, status, started, finished in rows:
        h = health.setdefault(flow, FlowHealth(flow, {}))
        h.runs_24h += 1
        h.failed_24h += status in ("exception", "failed")
        h.hourly[min(23, int((started - since).total_seconds() // 3600))] += 1
        if finished is not None:
            durations.setdefault(flow, []).append((finished - started).total_seconds())
    for flow, values in durations.items():
        health[flow].p50, health[flow].p95 = percentile(values, 50), percentile(values, 95)
    return list(health.values())


def held_back(s: Session, kind: str | None = None) -> list[dict[str, Any]]:
    """Open exceptions: count and money held back, by flow and currency."""
    return summary(s, "held_back", lambda: _held_back(s, kind), kind)


def _held_back(s: Session, kind: str | None) -> list[dict[str, Any]]:
    query = (
        select(
            BusinessException.flow,
            BusinessException.currency,
            func.count(),
            func.sum(BusinessException.amount_minor),
        )
        .where(BusinessException.status == "open")
        .group_by(BusinessException.flow, BusinessException.currency)
    )
    if kind:
        query = query.where(BusinessException.kind == kind)
    out = []
    for flow, currency, n, minor in s.execute(query).all():
        amount = None if currency is None or minor is None else Decimal(minor) * quantum(currency)
        out.append({"flow": flow, "currency": currency, "count": int(n), "amount": amount})
    return sorted(out, key=lambda r: (r["flow"], r["currency"] or ""))


def count_open(s: Session, kind: str) -> int:
    return summary(s, "count_open", lambda: _count_open(s, kind), kind)


def _count_open(s: Session, kind: str) -> int:
    return int(
        s.scalar(
            select(func.count())
            .select_from(BusinessException)
            .where(BusinessException.kind == kind, BusinessException.status == "open")
        )
        or 0
    )


# --- exceptions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExceptionFilter:
    status: str | None = "open"
    kind: str | None = None
    flow: str | None = None
    reason: str | None = None
    entity: str | None = None
    currency: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None


def _amount_bound(column: Any, value: Decimal, currency: str | None, op: str) -> Any:
    """Compare ``amount_minor`` with ``value`` in each currency's own minor units."""

    def cmp(digits: int) -> ColumnElement[bool]:
        minor = int(value.scaleb(digits))
        result: ColumnElement[bool] = column >= minor if op == ">=" else column <= minor
        return result

    if currency:
        return and_(BusinessException.currency == currency, cmp(MINOR_UNITS.get(currency, 2)))
    groups: dict[int, list[str]] = {}
    for code, digits in MINOR_UNITS.items():
        groups.setdefault(digits, []).append(code)
    odd = [c for d, codes in groups.items() if d != 2 for c in codes]
    parts = [
        and_(BusinessException.currency.in_(codes), cmp(d)) for d, codes in groups.items() if d != 2
    ]
    parts.append(and_(BusinessException.currency.not_in(odd), cmp(2)))
    return or_(*parts)


def exception_query(f: ExceptionFilter) -> Any:
    query = select(BusinessException)
    for column, value in (
        (BusinessException.status, f.status),
        (BusinessException.kind, f.kind),
        (BusinessException.flow, f.flow),
        (BusinessException.reason_code, f.reason),
        (BusinessException.legal_entity, f.entity),
        (BusinessException.currency, f.currency),
    ):
        if value:
            query = query.where(column == value)
    if f.min_amount is not None:
        query = query.where(
            _amount_bound(BusinessException.amount_minor, f.min_amount, f.currency, ">=")
        )
    if f.max_amount is not None:
        query = query.where(
            _amount_bound(BusinessException.amount_minor, f.max_amount, f.currency, "<=")
        )
    return query


def exceptions_page(
    s: Session, f: ExceptionFilter, page: int, per_page: int
) -> tuple[Sequence[BusinessException], int]:
    """One page ranked by money held back, and the match count (capped at 10,001)."""
    query = exception_query(f)
    amount = BusinessException.amount_minor.desc()
    # SQLite already sorts NULLs last in DESC, and the explicit clause would stop it walking
    # the (status, amount_minor) index backwards; PostgreSQL needs it said.
    if s.get_bind().dialect.name != "sqlite":
        amount = amount.nulls_last()
    rows = s.scalars(
        query.order_by(amount, BusinessException.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    capped = query.with_only_columns(BusinessException.id).limit(10_001).subquery()
    total = int(s.scalar(select(func.count()).select_from(capped)) or 0)
    return rows, total


def facet_values(s: Session) -> dict[str, list[str]]:
    """Distinct flows, reasons and entities among open exceptions (for the filters)."""
    return summary(s, "facets", lambda: _facet_values(s))


def _facet_values(s: Session) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, column in (
        ("flows", BusinessException.flow),
        ("reasons", BusinessException.reason_code),
        ("entities", BusinessException.legal_entity),
    ):
        values = s.scalars(
            select(column).where(BusinessException.status == "open").distinct().limit(200)
        ).all()
        out[name] = sorted(v for v in values if v)
    return out


# --- runs and audit --------------------------------------------------------------------------


def runs_page(
    s: Session, flow: str | None, status: str | None, before: datetime | None, limit: int
) -> Sequence[FlowRun]:
    """Newest runs first, keyset-paged on ``started_at``."""
    query = select(FlowRun)
    if flow:
        query = query.where(FlowRun.flow == flow)
    if status:
        query = query.where(FlowRun.status == status)
    if before is not None:
        query = query.where(FlowRun.started_at < before)
    return s.scalars(query.order_by(FlowRun.started_at.desc()).limit(limit)).all()


def audit_page(
    s: Session,
    actor: str | None,
    action: str | None,
    correlation_id: str | None,
    before_id: int | None,
    limit: int,
) -> Sequence[AuditEntry]:
    """Newest entries first, keyset-paged on ``id`` (indexed with each filter)."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if correlation_id:
        query = query.where(AuditEntry.correlation_id == correlation_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return s.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()


def recent_actions(s: Session, actions: Sequence[str], limit: int = 20) -> Sequence[AuditEntry]:
    return s.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(actions))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
