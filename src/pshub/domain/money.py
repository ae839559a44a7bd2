"""Money: a Decimal amount with an ISO 4217 currency. Never float.

Build amounts with :func:`money` (or ``Money.of``); round with :meth:`Money.rounded`
to the currency's minor unit; split with :func:`allocate`, which uses the largest
remainder so that the parts always sum back to the whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_serializer

# Minor units per ISO 4217 for the currencies the hub is likely to meet; others default to 2.
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "GBP": 2,
    "EUR": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "NZD": 2,
    "HKD": 2,
    "INR": 2,
    "CNY": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "ZAR": 2,
    "MXN": 2,
    "BRL": 2,
    "PLN": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "VND": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}


class MoneyError(ValueError):
    """An amount or currency that cannot be money, or arithmetic across currencies."""


def minor_unit(currency: str) -> int:
    """Number of decimal places of the currency's minor unit."""
    return MINOR_UNITS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    """The smallest unit of the currency as a Decimal, e.g. Decimal('0.01')."""
    found = _QUANTA.get(currency)
    if found is None:
        found = _QUANTA[currency] = Decimal(1).scaleb(-minor_unit(currency))
    return found


_QUANTA: dict[str, Decimal] = {}
_ZERO = Decimal(0)
_new = object.__new__
_set = object.__setattr__


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Parse a str/int/Decimal into a finite Decimal; floats are refused (they are not exact)."""
    if isinstance(value, (bool, float)):
        raise MoneyError(f"{field}: {value!r} is a float or bool; give a string or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise MoneyError(f"{field}: {value!r} is not a number") from exc
    else:
        raise MoneyError(f"{field}: {value!r} is not a number")
    if not result.is_finite():
        raise MoneyError(f"{field}: {value!r} is not a finite number")
    return result


def check_currency(code: str) -> str:
    """Validate an ISO 4217 alphabetic code (three upper-case letters)."""
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        raise MoneyError(f"currency: {code!r} is not an ISO 4217 code")
    return code


class Money(BaseModel):
    """An exact amount in one currency. Immutable; arithmetic only within a currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        return to_decimal(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_serializer
    def _serialize(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        """The one constructor: Money.of("12.50", "USD"). Raises MoneyError naming the field."""
        # Both parts are checked here, so pydantic's validation would only repeat the checks.
        return cls._trusted(to_decimal(amount), check_currency(currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls._trusted(_ZERO, check_currency(currency))

    @classmethod
    def _trusted(cls, amount: Decimal, currency: str) -> Money:
        # Checked parts (arithmetic on validated Money, or checked above) need no pydantic
        # validation; this builds the instance as ``model_construct`` would, at a third of
        # its cost (month-end creates tens of thousands of these per run).
        made = _new(cls)
        _set(made, "__dict__", {"amount": amount, "currency": currency})
        _set(made, "__pydantic_fields_set__", {"amount", "currency"})
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made

    def rounded(self) -> Money:
        """Round half-up to the currency's minor unit."""
        q = quantum(self.currency)
        return Money._trusted(self.amount.quantize(q, rounding=ROUND_HALF_UP), self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money._trusted(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money._trusted(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money._trusted(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, (float, bool)):
            raise MoneyError("multiply money by a Decimal or int, never a float")
        return Money._trusted(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.currency} {self.rounded().amount:,}"


def money(amount: object, currency: str) -> Money:
    """Shorthand for :meth:`Money.of`."""
    return Money.of(amount, currency)


def total(items: Iterable[Money], currency: str) -> Money:
    """Sum of amounts that must all be in ``currency`` (zero when empty)."""
    result = Money.zero(currency)
    for item in items:
        result = result + item
    return result


def allocate(whole: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split ``whole`` (rounded to minor units) in proportion to ``weights``.

    Largest-remainder method: every part is a whole number of minor units and the
    parts sum exactly to the rounded whole. Ties go to the earlier part.
    """
    if not weights:
        raise MoneyError("allocate: no weights")
    ws = [to_decimal(w, "weight") for w in weights]
    if any(w < 0 for w in ws):
        raise MoneyError("allocate: weights must not be negative")
    weight_sum = sum(ws, Decimal(0))
    if weight_sum == 0:
        raise MoneyError("allocate: weights sum to zero")
    q = quantum(whole.currency)
    units = int((whole.rounded().amount / q).to_integral_value())
    sign = -1 if units < 0 else 1
    units = abs(units)
    exact = [Decimal(units) * w / weight_sum for w in ws]
    floors = [int(e) for e in exact]
    short = units - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return [Money._trusted(Decimal(sign * f) * q, whole.currency) for f in floors]


def parse_money(data: Any, field: str = "amount") -> Money:
    """Build Money from ``{"amount": "1.00", "currency": "USD"}``; errors name the field."""
    if not isinstance(data, dict):
        raise MoneyError(f"{field}: expected an object with amount and currency")
    try:
        return Money.of(data["amount"], data["currency"])
    except KeyError as exc:
        raise MoneyError(f"{field}.{exc.args[0]}: missing") from exc
