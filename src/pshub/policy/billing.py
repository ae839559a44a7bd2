"""Billing policy: calendar cutoffs, not-to-exceed rule, consultants' cost rates, FX rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pshub.domain.billing import BillingCalendar, FxRates, Period
from pshub.domain.money import Money, check_currency, to_decimal

_STRICT = ConfigDict(extra="forbid", frozen=True)
FILES = ("billing.yaml", "consultants.yaml", "fx_rates.yaml")


class _Calendar(BaseModel):
    model_config = _STRICT
    cutoff_days_after_month_end: int = Field(2, ge=0, le=27)
    cutoff_time_utc: str = Field("18:00", pattern=r"^\d\d:\d\d$")


class BillingFile(BaseModel):
    model_config = _STRICT
    calendar: _Calendar = _Calendar()
    tm_not_to_exceed: Literal["contract_value", "none"] = "contract_value"
    batch_size: int = Field(100, ge=1, le=1000)
    batches_per_workflow: int = Field(10, ge=1, le=1000)
    requests_in_parallel: int = Field(4, ge=1, le=64)


class ConsultantFile(BaseModel):
    model_config = _STRICT
    psa_user_id: str
    name: str
    role: str
    cost_rate: str
    currency: str
    erp_employee_id: str

    @field_validator("cost_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> str:
        rate = to_decimal(value, "cost_rate")
        if rate < 0:
            raise ValueError("cost_rate must not be negative")
        return str(rate)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)


class ConsultantsFile(BaseModel):
    model_config = _STRICT
    consultants: list[ConsultantFile]


class FxRateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    pair: str = Field(pattern=r"^[A-Z]{3}/[A-Z]{3}$")
    valid_from: date = Field(alias="from")
    rate: str

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> str:
        rate = to_decimal(value, "rate")
        if rate <= 0:
            raise ValueError("rate must be positive")
        return str(rate)


class FxFile(BaseModel):
    model_config = _STRICT
    rates: list[FxRateFile]


@dataclass(frozen=True)
class Consultant:
    psa_user_id: str
    name: str
    role: str
    cost_rate: Money
    erp_employee_id: str


@dataclass(frozen=True)
class BillingPolicy:
    rules: BillingFile
    consultants: dict[str, Consultant]
    fx: FxRates

    def cost_rates(self) -> dict[str, Money]:
        return {k: c.cost_rate for k, c in self.consultants.items()}

    def calendar(
        self, around: date, closed: set[str], months_back: int = 6, months_ahead: int = 3
    ) -> BillingCalendar:
        """Monthly periods around ``around``; ``closed`` holds YYYY-MM labels locked for close."""
        cal = self.rules.calendar
        hh, mm = (int(x) for x in cal.cutoff_time_utc.split(":"))
        periods = []
        first = _add_months(date(around.year, around.month, 1), -months_back)
        for n in range(months_back + months_ahead + 1):
            start = _add_months(first, n)
            end = _add_months(start, 1) - timedelta(days=1)
            cutoff = datetime.combine(
                end + timedelta(days=cal.cutoff_days_after_month_end), time(hh, mm), tzinfo=UTC
            )
            label = f"{start:%Y-%m}"
            periods.append(
                Period(label=label, start=start, end=end, cutoff=cutoff, closed=label in closed)
            )
        return BillingCalendar(periods=tuple(periods))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def build_billing_policy(
    rules: BillingFile, consultants: ConsultantsFile, fx: FxFile
) -> BillingPolicy:
    people = {
        c.psa_user_id: Consultant(
            c.psa_user_id, c.name, c.role, Money.of(c.cost_rate, c.currency), c.erp_employee_id
        )
        for c in consultants.consultants
    }
    tables: dict[str, list[tuple[date, Decimal]]] = {}
    for r in fx.rates:
        tables.setdefault(r.pair, []).append((r.valid_from, Decimal(r.rate)))
    return BillingPolicy(
        rules=rules,
        consultants=people,
        fx=FxRates(rates={pair: tuple(sorted(rows)) for pair, rows in tables.items()}),
    )


def read_billing_files(directory: Path) -> dict[str, type[BaseModel]]:
    return {FILES[0]: BillingFile, FILES[1]: ConsultantsFile, FILES[2]: FxFile}
