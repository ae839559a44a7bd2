"""Opportunities and their lines, as the CRM sells them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pshub.domain.money import Money, total
from pshub.domain.parties import Account

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class BillingModel(StrEnum):
    TIME_AND_MATERIALS = "time_and_materials"
    FIXED_FEE_MILESTONE = "fixed_fee_milestone"
    PERCENT_COMPLETE = "percent_complete"
    RETAINER = "retainer"


class OpportunityLine(BaseModel):
    """A line of a deal; for milestone billing each line is a billable milestone."""

    model_config = _FROZEN

    source_id: str
    name: str
    quantity: Decimal = Decimal(1)
    unit_price: Money
    total: Money
    service_date: date | None = None


class Opportunity(BaseModel):
    """A potential sale. ``legal_entity`` and ``service_line`` are the CRM's codes, unmapped."""

    model_config = _FROZEN

    id: str
    source_system: str = "salesforce"
    source_id: str
    name: str
    account: Account
    stage: str
    probability: Decimal = Field(ge=0, le=100)
    amount: Money
    close_date: date
    legal_entity: str | None
    service_line: str | None
    billing_model: BillingModel | None
    rate_card: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    lines: tuple[OpportunityLine, ...] = ()

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def is_closed_won(self) -> bool:
        return self.stage == "Closed Won"

    def lines_total(self) -> Money:
        return total((line.total for line in self.lines), self.currency)
