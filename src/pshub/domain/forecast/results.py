"""Output of one forecast run: cells with lineage, revenue at risk, drivers and findings.

Cells are sparse: a (legal entity, service line, currency, month, category) with no
contribution has no cell, and :meth:`ForecastSnapshotData.amount` reads it as zero.
Every cell's amount is exactly the sum of its lineage entries (whole minor units).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from pshub.domain.findings import Finding
from pshub.domain.forecast.months import Month
from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    ACTUAL = "actual"  # recognised in a closed month
    BACKLOG = "backlog"  # contracted, not yet recognised
    PIPELINE = "pipeline"  # open opportunities x stage probability


class SourceKind(StrEnum):
    ACTUAL = "actual"
    CONTRACT = "contract"  # retainer or percent-complete plan of the contract itself
    MILESTONE = "milestone"
    ASSIGNMENT = "assignment"
    OPPORTUNITY = "opportunity"


class LineageEntry(NamedTuple):
    """One source record's contribution to a cell; ``refs`` are the records behind it.

    A typed, immutable NamedTuple rather than a model: a run holds one per contribution
    (10^5 and more), and pydantic still validates it inside a cell (JSON: an array).
    """

    source_kind: SourceKind
    source_id: str
    amount: Money
    refs: tuple[str, ...] = ()  # the contract of a milestone/assignment; an actual's sources


class CellKey(NamedTuple):
    legal_entity: str
    service_line: str
    currency: str
    month: str
    category: Category


class ForecastCell(BaseModel):
    """Revenue of one category for a legal entity and service line in a month."""

    model_config = _FROZEN

    legal_entity: str
    service_line: str
    month: Month
    category: Category
    amount: Money
    lineage: tuple[LineageEntry, ...]

    @property
    def key(self) -> CellKey:
        return CellKey(
            self.legal_entity, self.service_line, self.amount.currency, self.month, self.category
        )


class AtRiskCell(BaseModel):
    """Revenue at risk from demand (assigned hours) that capacity does not cover."""

    model_config = _FROZEN

    legal_entity: str
    service_line: str
    month: Month
    needed_hours: Decimal
    staffed_hours: Decimal
    unstaffed_hours: Decimal
    amount: Money
    lineage: tuple[LineageEntry, ...]  # the assignments whose hours are unstaffed


class ContractDriver(BaseModel):
    """What a contract looked like at the run, so a later diff can name the cause."""

    model_config = _FROZEN

    id: str
    version: int
    opportunity_id: str | None
    value: Money
    recognised_to_date: Money


class MilestoneDriver(BaseModel):
    model_config = _FROZEN

    id: str
    contract_id: str
    month: Month  # the due month as planned (before moving overdue ones to the first month)
    recognised: bool


class OpportunityDriver(BaseModel):
    model_config = _FROZEN

    id: str
    stage: str
    amount: Money
    start_month: Month
    duration_months: int


class ForecastSnapshotData(BaseModel):
    """The result of :func:`pshub.domain.forecast.forecast` (content of a snapshot)."""

    model_config = _FROZEN

    as_of_month: Month  # first open month: months before it are closed (actuals)
    horizon_months: int
    months: tuple[Month, ...]  # the forecast months, as_of_month first
    cells: tuple[ForecastCell, ...]
    at_risk: tuple[AtRiskCell, ...]
    contracts: tuple[ContractDriver, ...]
    milestones: tuple[MilestoneDriver, ...]
    opportunities: tuple[OpportunityDriver, ...]
    findings: tuple[Finding, ...]

    def amount(
        self,
        legal_entity: str,
        service_line: str,
        month: str,
        category: Category,
        currency: str,
    ) -> Money:
        """The amount of one cell (zero when the cell has no contribution)."""
        key = CellKey(legal_entity, service_line, currency, month, category)
        return sum_money((c.amount for c in self.cells if c.key == key), currency)

    def revenue_by_month(self, currency: str) -> dict[str, Money]:
        """Actual + backlog + pipeline per month, over every entity and service line."""
        out: dict[str, Money] = {}
        for cell in self.cells:
            if cell.amount.currency == currency:
                out[cell.month] = out.get(cell.month, Money.zero(currency)) + cell.amount
        return dict(sorted(out.items()))


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Sum of Money in one currency, zero when empty."""
    return trusted_money(sum((m.amount for m in items), Decimal(0)), currency)


def trusted_money(amount: Decimal, currency: str) -> Money:
    """Money from values the model computed from validated Money (no re-validation: hot path)."""
    return Money.model_construct(amount=amount, currency=currency)
