"""Outputs of the revenue engine: per-period revenue, balances, journals, findings."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money
from pshub.domain.revenue.allocation import AllocationLine
from pshub.domain.revenue.journals import JournalEntry
from pshub.domain.revenue.modifications import ModificationDecision
from pshub.domain.revenue.obligations import RecognitionPolicy

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class FindingSeverity(StrEnum):
    WARNING = "warning"  # the numbers stand, but a person should look
    INFO = "info"  # a judgement the engine applied


class RevenueFinding(BaseModel):
    """A finding (a value, not an exception): what, where, and the money concerned."""

    model_config = _FROZEN

    code: str
    message: str
    severity: FindingSeverity = FindingSeverity.WARNING
    period: str | None = None
    obligation: str | None = None
    field: str | None = None
    amount: Money | None = None


class PeriodResult(BaseModel):
    """One period: revenue per obligation, cumulative figures, balances at period end, entries."""

    model_config = _FROZEN

    period: str
    revenue_by_obligation: dict[str, Money]
    revenue: Money
    cumulative_revenue: Money
    billed: Money
    collected: Money
    cumulative_billed: Money
    cumulative_collected: Money
    receivable: Money
    contract_asset: Money
    contract_liability: Money
    transaction_price: Money
    entries: tuple[JournalEntry, ...]
    modifications: tuple[ModificationDecision, ...] = ()


class RevenueResult(BaseModel):
    """The whole run: the allocation at inception, every period, and the findings."""

    model_config = _FROZEN

    currency: str
    transaction_price: Money
    variable_included: Money
    variable_constrained: Money
    allocation: tuple[AllocationLine, ...]
    periods: tuple[PeriodResult, ...]
    findings: tuple[RevenueFinding, ...]
    policy: RecognitionPolicy

    def period(self, label: str) -> PeriodResult:
        """The result of one period by label."""
        return next(p for p in self.periods if p.period == label)
