"""Canonical event ``ForecastRevised``: a new forecast snapshot and what moved since the last.

Other flows and the console consume it; FP&A never writes back into transactional systems,
so this event is the only way a forecast revision reaches operations. Pure: the caller
passes the instant (no clock here).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pshub.domain.forecast import Category, ForecastSnapshot, Movement, totals_by_cause
from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")
TOP_MOVEMENTS = 10


class CategoryTotal(BaseModel):
    model_config = _FROZEN

    category: Category
    amount: Money  # over every entity, service line and month of the snapshot


class CauseTotal(BaseModel):
    model_config = _FROZEN

    cause: str
    amount: Money  # net movement of this cause since the previous snapshot


class MovementSummary(BaseModel):
    model_config = _FROZEN

    cause: str
    source_kind: str
    source_id: str
    legal_entity: str
    service_line: str
    month: str
    category: Category
    delta: Money
    detail: str


class ForecastRevised(BaseModel):
    """A forecast run produced a new snapshot version."""

    model_config = _FROZEN

    type: Literal["ForecastRevised"] = "ForecastRevised"
    event_id: str
    occurred_at: datetime
    snapshot_id: str
    version: int
    previous_id: str | None
    as_of_month: str
    horizon_months: int
    totals: tuple[CategoryTotal, ...]
    by_cause: tuple[CauseTotal, ...]
    largest_movements: tuple[MovementSummary, ...]  # by absolute size, at most TOP_MOVEMENTS
    movements: int
    findings: int


def event_id_for(snapshot: ForecastSnapshot) -> str:
    """Stable per snapshot version: recording the same revision twice is a no-op."""
    return f"forecast:{snapshot.id}:v{snapshot.version}"


def forecast_revised(
    snapshot: ForecastSnapshot, movements: list[Movement], occurred_at: datetime
) -> ForecastRevised:
    """The event for ``snapshot`` given its movements against the previous snapshot."""
    sums: dict[tuple[Category, str], Decimal] = defaultdict(Decimal)
    for cell in snapshot.data.cells:
        sums[(cell.category, cell.amount.currency)] += cell.amount.amount
    largest = sorted(movements, key=lambda m: (-abs(m.delta.amount), m.source_id, m.month))
    return ForecastRevised(
        event_id=event_id_for(snapshot),
        occurred_at=occurred_at,
        snapshot_id=snapshot.id,
        version=snapshot.version,
        previous_id=snapshot.previous_id,
        as_of_month=snapshot.data.as_of_month,
        horizon_months=snapshot.data.horizon_months,
        totals=tuple(
            CategoryTotal(category=cat, amount=Money.of(amount, currency))
            for (cat, currency), amount in sorted(sums.items())
        ),
        by_cause=tuple(
            CauseTotal(cause=str(cause), amount=amount)
            for (cause, _), amount in totals_by_cause(movements).items()
        ),
        largest_movements=tuple(_summary(m) for m in largest[:TOP_MOVEMENTS]),
        movements=len(movements),
        findings=len(snapshot.data.findings),
    )


def _summary(m: Movement) -> MovementSummary:
    return MovementSummary(
        cause=str(m.cause),
        source_kind=str(m.source_kind),
        source_id=m.source_id,
        legal_entity=m.legal_entity,
        service_line=m.service_line,
        month=m.month,
        category=m.category,
        delta=m.delta,
        detail=m.detail,
    )
