"""Rate cards: bill rates by role, effective date and currency."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RoleRate(BaseModel):
    model_config = _FROZEN

    role: str
    rate: Money
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class RateCard(BaseModel):
    model_config = _FROZEN

    code: str
    currency: str
    rates: tuple[RoleRate, ...]

    def rate_for(self, role: str, day: date) -> Money | None:
        """The bill rate for ``role`` on ``day``; None when the card has none."""
        for entry in self.rates:
            if entry.role == role and entry.applies_on(day):
                return entry.rate
        return None
