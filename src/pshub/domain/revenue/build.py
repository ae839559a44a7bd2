"""Building result models from values the engine computed itself, without re-validating them.

A run creates thousands of result objects (money amounts, journal lines and entries, period
results). Their values are correct by construction (amounts come from exact Decimal
arithmetic in one currency; every entry's balance is checked where it is built), so pydantic
validation would only repeat checks at ten times the cost. :func:`trusted` builds an
instance as ``model_construct`` would (the given fields are the fields set), but cheaper;
:class:`MoneyMaker` shares one immutable :class:`Money` per distinct amount within a run.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from pshub.domain.money import Money, check_currency, quantum

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__
# The slot setters of pydantic models: cheaper than object.__setattr__ (no argument slicing).
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``fields`` (all of them, already valid) as given."""
    made = _new(cls)
    _set(made, "__dict__", fields)
    _set_fields_set(made, set(fields))
    _set_extra(made, None)
    _set_private(made, None)
    return made


class MoneyMaker:
    """``Money`` in one currency, one shared instance per distinct amount (frozen, so safe).

    Keyed by the amount's text, which is exact: ``0`` and ``0.00`` (equal Decimals) show
    differently when serialised and stay distinct. Text is also cheaper than a Decimal's
    hash, which the C implementation computes by modular exponentiation.
    """

    __slots__ = ("_cache", "currency", "zero", "zero_amount")

    def __init__(self, currency: str) -> None:
        self.currency = check_currency(currency)
        self._cache: dict[str, Money] = {}
        self.zero_amount = Decimal(0).quantize(quantum(currency))  # as Money.rounded() has it
        self.zero = self.make(self.zero_amount)

    def make(self, amount: Decimal) -> Money:
        """The Money of ``amount`` (shared when this amount was made before)."""
        key = str(amount)
        made = self._cache.get(key)
        if made is None:
            made = self._cache[key] = _new(Money)
            _set(made, "__dict__", {"amount": amount, "currency": self.currency})
            _set_fields_set(made, {"amount", "currency"})
            _set_extra(made, None)
            _set_private(made, None)
        return made

    __call__ = make
