"""Contracts: what was sold — price, billing model, currency, rate card; versioned by amendments."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money
from pshub.domain.sales import BillingModel

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ContractLine(BaseModel):
    model_config = _FROZEN

    id: str
    name: str
    amount: Money
    service_date: date | None = None


class Contract(BaseModel):
    model_config = _FROZEN

    id: str
    version: int = 1
    opportunity_id: str
    account_id: str
    legal_entity: str
    service_line: str
    billing_model: BillingModel
    value: Money
    rate_card: str | None = None
    tax_code: str
    start_date: date | None = None
    end_date: date | None = None
    lines: tuple[ContractLine, ...] = ()
