"""Frozen input models of the revenue forecast: contracts, assignments, pipeline, capacity.

Months are ``YYYY-MM`` strings (:mod:`pshub.domain.forecast.months`); business dates
(contract term, milestone due dates, expected starts) are ``date``. Hours and percentages
are Decimal and refuse floats, like money.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pshub.domain.forecast.months import Month, month_index
from pshub.domain.money import Money, check_currency, to_decimal
from pshub.domain.sales import BillingModel

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Hours = Annotated[Decimal, BeforeValidator(lambda v: to_decimal(v, "hours")), Field(ge=0)]
Percent = Annotated[
    Decimal, BeforeValidator(lambda v: to_decimal(v, "percent")), Field(ge=0, le=100)
]


class MilestonePlan(BaseModel):
    """A billable milestone of a fixed-fee contract; recognised in the month it is due."""

    model_config = _FROZEN

    id: str
    due_date: date
    amount: Money
    recognised: bool = False


class PercentCompletePoint(BaseModel):
    """Planned cumulative percent complete at the end of ``month``."""

    model_config = _FROZEN

    month: Month
    cumulative_percent: Percent


class ContractForecastInput(BaseModel):
    """A signed contract as the forecast needs it (backlog = value - recognised to date)."""

    model_config = _FROZEN

    id: str
    version: int = 1
    opportunity_id: str | None = None
    billing_model: BillingModel
    currency: str
    legal_entity: str
    service_line: str
    value: Money
    recognised_to_date: Money
    start_date: date
    end_date: date
    milestones: tuple[MilestonePlan, ...] = ()
    percent_complete_plan: tuple[PercentCompletePoint, ...] = ()
    retainer_fee: Money | None = None  # one fee per retainer period; None: straight-line value
    retainer_period_months: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_currency(self.currency)
        amounts = [self.value, self.recognised_to_date, *(m.amount for m in self.milestones)]
        if self.retainer_fee is not None:
            amounts.append(self.retainer_fee)
        if any(a.currency != self.currency for a in amounts):
            raise ValueError(f"contract {self.id}: every amount must be in {self.currency}")
        if self.end_date < self.start_date:
            raise ValueError(f"contract {self.id}: end_date is before start_date")
        plan = [(month_index(p.month), p.cumulative_percent) for p in self.percent_complete_plan]
        if any(b[0] <= a[0] or b[1] < a[1] for a, b in pairwise(plan)):
            raise ValueError(f"contract {self.id}: percent_complete_plan must rise month by month")
        return self

    @property
    def remaining_value(self) -> Money:
        """Backlog: contracted value not yet recognised (never negative)."""
        rest = self.value.amount - self.recognised_to_date.amount
        return Money(amount=max(rest, Decimal(0)), currency=self.currency)


class Assignment(BaseModel):
    """Planned hours of a consultant (or an unnamed placeholder) on a contract in a month."""

    model_config = _FROZEN

    id: str
    contract_id: str
    consultant: str | None  # None: demand not yet staffed with a named person
    role: str
    month: Month
    planned_hours: Hours
    bill_rate: Money


class OpenOpportunity(BaseModel):
    """An open deal: weighted by its stage's probability, spread over its expected duration."""

    model_config = _FROZEN

    id: str
    legal_entity: str
    service_line: str
    stage: str
    amount: Money
    expected_start: date
    duration_months: int = Field(ge=1)


class StageProbabilities(BaseModel):
    """Policy: win probability in percent (0-100) per CRM stage name."""

    model_config = _FROZEN

    percent_by_stage: dict[str, Percent]

    def percent(self, stage: str) -> Decimal | None:
        return self.percent_by_stage.get(stage)


class Capacity(BaseModel):
    """Hours a consultant (or, with no consultant, a pool of a role) can work in a month."""

    model_config = _FROZEN

    consultant: str | None
    role: str
    month: Month
    available_hours: Hours


class Actual(BaseModel):
    """Revenue recognised in a closed month, with the ids of the records behind it."""

    model_config = _FROZEN

    id: str
    legal_entity: str
    service_line: str
    month: Month
    amount: Money
    source_ids: tuple[str, ...] = ()


class ForecastInputs(BaseModel):
    """Everything one forecast run reads. Ids are unique per kind (lineage depends on it)."""

    model_config = _FROZEN

    contracts: tuple[ContractForecastInput, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    opportunities: tuple[OpenOpportunity, ...] = ()
    stage_probabilities: StageProbabilities = StageProbabilities(percent_by_stage={})
    capacity: tuple[Capacity, ...] = ()
    actuals: tuple[Actual, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        _unique("contracts", (c.id for c in self.contracts))
        _unique("milestones", (m.id for c in self.contracts for m in c.milestones))
        _unique("assignments", (a.id for a in self.assignments))
        _unique("opportunities", (o.id for o in self.opportunities))
        _unique("actuals", (a.id for a in self.actuals))
        return self


def _unique(field: str, ids: Iterable[str]) -> None:
    dupes = sorted(k for k, n in Counter(ids).items() if n > 1)
    if dupes:
        raise ValueError(f"{field}: duplicate ids {dupes[:5]}")
