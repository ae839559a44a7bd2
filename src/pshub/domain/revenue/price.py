"""Transaction price: fixed consideration plus constrained variable consideration.

Variable consideration is estimated by the expected value (sum of probability-weighted
amounts) or the most likely amount (ASC 606-10-32-8 / IFRS 15.53), then constrained to
the amount for which a significant reversal is not probable (ASC 606-10-32-11 / IFRS 15.56).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from pshub.domain.money import to_decimal

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def exact(value: Any) -> Any:
    """Before-validator helper: numbers as str/int/Decimal only, never float."""
    return value if value is None else to_decimal(value, "value")


class VariableMethod(StrEnum):
    EXPECTED_VALUE = "expected_value"
    MOST_LIKELY_AMOUNT = "most_likely_amount"


class Outcome(BaseModel):
    """One possible amount of variable consideration and its probability (0..1)."""

    model_config = _FROZEN

    amount: Decimal
    probability: Decimal

    _exact = field_validator("amount", "probability", mode="before")(exact)

    @field_validator("probability")
    @classmethod
    def _probability(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(1):
            raise ValueError("probability must be between 0 and 1")
        return value


class VariableConsideration(BaseModel):
    """Variable consideration with its estimation method and an optional constraint.

    ``constraint`` is the most that is highly probable not to reverse; the amount
    included in the transaction price is ``min(estimate, constraint)``. ``allocate_to``
    names the obligations the variable amount relates to entirely (ASC 606-10-32-40).
    """

    model_config = _FROZEN

    method: VariableMethod
    outcomes: tuple[Outcome, ...]
    constraint: Decimal | None = None
    allocate_to: tuple[str, ...] = ()

    _exact = field_validator("constraint", mode="before")(exact)

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: object) -> object:
        return "most_likely_amount" if value == "most_likely" else value

    @model_validator(mode="after")
    def _check(self) -> VariableConsideration:
        if not self.outcomes:
            raise ValueError("outcomes: give at least one outcome")
        total = sum((o.probability for o in self.outcomes), Decimal(0))
        if self.method is VariableMethod.EXPECTED_VALUE and total != 1:
            raise ValueError(f"outcomes: probabilities sum to {total}, expected 1")
        if total > 1:
            raise ValueError(f"outcomes: probabilities sum to {total}, more than 1")
        if self.constraint is not None and self.constraint < 0:
            raise ValueError("constraint must not be negative")
        return self


def estimate(variable: VariableConsideration) -> Decimal:
    """Unconstrained estimate by the chosen method (ties of likelihood take the smaller amount)."""
    if variable.method is VariableMethod.EXPECTED_VALUE:
        return sum((o.amount * o.probability for o in variable.outcomes), Decimal(0))
    best = max(variable.outcomes, key=lambda o: (o.probability, -o.amount))
    return best.amount


def constrained(variable: VariableConsideration | None) -> tuple[Decimal, Decimal]:
    """(amount included in the transaction price, amount held back by the constraint)."""
    if variable is None:
        return Decimal(0), Decimal(0)
    estimated = estimate(variable)
    if variable.constraint is None or estimated <= variable.constraint:
        return estimated, Decimal(0)
    return variable.constraint, estimated - variable.constraint
