"""Inputs of the revenue engine: obligations, contract terms, activity facts, policy.

All models are frozen and refuse unknown fields; numbers are Decimal (str/int accepted,
float refused). A case that cannot be computed raises :class:`RevenueInputError`, whose
``field`` names the offending input path (``activity[3].cost_incurred``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from pshub.domain.money import check_currency
from pshub.domain.revenue.price import VariableConsideration, exact

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RevenueInputError(ValueError):
    """The case cannot be computed; ``field`` is the path of the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Method(StrEnum):
    """How an obligation's revenue is measured."""

    TIME_AND_MATERIALS = "time_and_materials"  # right-to-invoice expedient, ASC 606-10-55-18
    POINT_IN_TIME = "point_in_time"  # e.g. milestone on acceptance, ASC 606-10-25-30
    PERCENT_COMPLETE = "percent_complete"  # over time, cost-to-cost input, ASC 606-10-55-20/21
    STRAIGHT_LINE = "straight_line"  # over a service period: retainer, stand-ready


class Treatment(StrEnum):
    """Accounting for a contract modification (ASC 606-10-25-12/13, IFRS 15.20/21)."""

    SEPARATE_CONTRACT = "separate_contract"
    PROSPECTIVE = "prospective"  # termination of the old contract and creation of a new one
    CUMULATIVE_CATCH_UP = "cumulative_catch_up"


class Obligation(BaseModel):
    """A performance obligation. ``start``/``end`` are period labels (straight_line)."""

    model_config = _FROZEN

    id: str
    method: Method
    standalone_price: Decimal | None = None
    rate: Decimal | None = None
    start: str | None = None
    end: str | None = None

    _exact = field_validator("standalone_price", "rate", mode="before")(exact)

    @model_validator(mode="after")
    def _check(self) -> Obligation:
        if not self.id:
            raise ValueError("id must not be empty")
        if self.standalone_price is not None and self.standalone_price < 0:
            raise ValueError("standalone_price must not be negative")
        if self.method is Method.TIME_AND_MATERIALS and (self.rate is None or self.rate < 0):
            raise ValueError("rate: a time_and_materials obligation needs a rate >= 0")
        if self.method is Method.STRAIGHT_LINE and (self.start is None or self.end is None):
            raise ValueError("a straight_line obligation needs start and end periods")
        return self


class ContractTerms(BaseModel):
    """Fixed price, optional variable consideration, obligations, optional discount target."""

    model_config = _FROZEN

    price: Decimal
    variable: VariableConsideration | None = None
    obligations: tuple[Obligation, ...]
    discount_to: tuple[str, ...] = ()  # ASC 606-10-32-37: the discount relates to these only

    _exact = field_validator("price", mode="before")(exact)


class Modification(BaseModel):
    """An approved change of scope and/or price.

    ``distinct``: the added goods or services are distinct (25-12(a)).
    ``at_standalone_price``: the price increase reflects their standalone prices (25-12(b)).
    ``remaining_distinct``: the remaining goods or services are distinct from those already
    transferred (25-13(a)); defaults to ``distinct``. ``treatment`` forces the outcome.
    ``extend`` gives a new end period to straight_line obligations.
    """

    model_config = _FROZEN

    price_change: Decimal = Decimal(0)
    add_obligations: tuple[Obligation, ...] = ()
    extend: dict[str, str] = {}
    distinct: bool | None = None
    at_standalone_price: bool | None = None
    remaining_distinct: bool | None = None
    treatment: Treatment | None = None

    _exact = field_validator("price_change", mode="before")(exact)


class Activity(BaseModel):
    """One fact of one period. Which fields are set says what kind of fact it is."""

    model_config = _FROZEN

    period: str
    obligation: str | None = None
    cost_incurred: Decimal | None = None
    estimated_total_cost: Decimal | None = None
    excluded_cost: Decimal | None = None  # costs that do not depict progress (waste, set-up)
    uninstalled_materials: Decimal | None = None  # recognised at zero margin, 606-10-55-21(b)
    hours: Decimal | None = None
    satisfied: bool | None = None
    billed: Decimal | None = None
    collected: Decimal | None = None
    modification: Modification | None = None
    variable: VariableConsideration | None = None  # re-estimate of variable consideration

    _exact = field_validator(
        "cost_incurred",
        "estimated_total_cost",
        "excluded_cost",
        "uninstalled_materials",
        "hours",
        "billed",
        "collected",
        mode="before",
    )(exact)

    def kinds(self) -> list[str]:
        """The kinds of fact this row carries (a row carries exactly one)."""
        found = []
        if (
            self.cost_incurred is not None
            or self.estimated_total_cost is not None
            or self.excluded_cost is not None
            or self.uninstalled_materials is not None
        ):
            found.append("cost")
        if self.hours is not None:
            found.append("hours")
        if self.satisfied is not None:
            found.append("satisfied")
        if self.billed is not None:
            found.append("billed")
        if self.collected is not None:
            found.append("collected")
        if self.modification is not None:
            found.append("modification")
        if self.variable is not None:
            found.append("variable")
        return found


class RecognitionPolicy(BaseModel):
    """Configurable choices. ``progress_decimals``: round cost-to-cost progress (a ratio,
    e.g. 3 places = 51.2 %) half-up before applying it; ``None`` keeps it unrounded."""

    model_config = _FROZEN

    progress_decimals: int | None = None

    @field_validator("progress_decimals")
    @classmethod
    def _places(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 12:
            raise ValueError("progress_decimals must be between 0 and 12")
        return value


class RevenueCase(BaseModel):
    """Everything the engine needs: currency, ordered periods, contract, facts, policy."""

    model_config = _FROZEN

    currency: str
    periods: tuple[str, ...]
    contract: ContractTerms
    activity: tuple[Activity, ...] = ()
    policy: RecognitionPolicy = RecognitionPolicy()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("periods")
    @classmethod
    def _periods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one period")
        if len(set(value)) != len(value):
            raise ValueError("period labels must be unique")
        return value
