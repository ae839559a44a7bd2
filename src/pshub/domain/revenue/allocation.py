"""Allocation of the transaction price to obligations (ASC 606-10-32-28..41, IFRS 15.73-86).

Relative standalone selling price by default; a discount allocated to some obligations only
(32-37); the residual approach when exactly one standalone price is missing (32-34(c)).
Time-and-materials obligations take no share: their consideration is variable and relates
entirely to them (32-40). Amounts are split by largest remainder so cents sum back.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money, allocate
from pshub.domain.revenue.obligations import Method, Obligation, RevenueInputError


class AllocationBasis(StrEnum):
    SOLE = "sole_obligation"
    RELATIVE_SSP = "relative_standalone_price"
    RESIDUAL = "residual"
    DISCOUNT = "discount_allocated"  # shares the discount (32-37)
    AT_STANDALONE = "at_standalone_price"  # excluded from the discount (32-37)
    TIME_AND_MATERIALS = "time_and_materials"


class AllocationLine(BaseModel):
    """What one obligation received at allocation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    obligation: str
    standalone_price: Money | None
    allocated: Money
    basis: AllocationBasis


def _line(o: Obligation, amount: Money, basis: AllocationBasis) -> AllocationLine:
    ssp = None if o.standalone_price is None else Money.of(o.standalone_price, amount.currency)
    return AllocationLine(obligation=o.id, standalone_price=ssp, allocated=amount, basis=basis)


def allocate_price(
    price: Money,
    obligations: Sequence[Obligation],
    discount_to: Sequence[str] = (),
    path: str = "contract.obligations",
) -> tuple[AllocationLine, ...]:
    """Allocate ``price`` to ``obligations``; lines come back in input order."""
    zero = Money.zero(price.currency)
    lines: dict[str, AllocationLine] = {}
    shared = [o for o in obligations if o.method is not Method.TIME_AND_MATERIALS]
    for o in obligations:
        if o.method is Method.TIME_AND_MATERIALS:
            lines[o.id] = _line(o, zero, AllocationBasis.TIME_AND_MATERIALS)
    if not shared:
        if not price.is_zero():
            raise RevenueInputError(
                path, "no obligation (other than time and materials) to allocate to"
            )
    elif len(shared) == 1:
        lines[shared[0].id] = _line(shared[0], price, AllocationBasis.SOLE)
    elif discount_to:
        lines.update(_with_discount(price, obligations, shared, discount_to, path))
    else:
        lines.update(_relative(price, obligations, shared, path))
    return tuple(lines[o.id] for o in obligations)


def _index(obligations: Sequence[Obligation], o: Obligation) -> int:
    return next(i for i, x in enumerate(obligations) if x.id == o.id)


def _ssp(o: Obligation, obligations: Sequence[Obligation], path: str) -> Decimal:
    if o.standalone_price is None:
        raise RevenueInputError(
            f"{path}[{_index(obligations, o)}].standalone_price",
            "a standalone price is required here",
        )
    return o.standalone_price


def _relative(
    price: Money, obligations: Sequence[Obligation], shared: list[Obligation], path: str
) -> dict[str, AllocationLine]:
    missing = [o for o in shared if o.standalone_price is None]
    if len(missing) > 1:
        _ssp(missing[1], obligations, path)  # raises: residual needs all but one
    if missing:
        return _residual(price, obligations, shared, missing[0], path)
    weights = [_ssp(o, obligations, path) for o in shared]
    if sum(weights, Decimal(0)) == 0:
        raise RevenueInputError(path, "standalone prices sum to zero")
    parts = allocate(price, weights)
    return {
        o.id: _line(o, part, AllocationBasis.RELATIVE_SSP)
        for o, part in zip(shared, parts, strict=True)
    }


def _residual(
    price: Money,
    obligations: Sequence[Obligation],
    shared: list[Obligation],
    rest: Obligation,
    path: str,
) -> dict[str, AllocationLine]:
    """Others at their standalone price; the one without a price gets what remains."""
    observed = {
        o.id: Money.of(_ssp(o, obligations, path), price.currency).rounded()
        for o in shared
        if o is not rest
    }
    remainder = price.rounded() - sum((m for m in observed.values()), Money.zero(price.currency))
    if not remainder.amount > 0:
        raise RevenueInputError(
            f"{path}[{_index(obligations, rest)}].standalone_price",
            f"the residual approach leaves {remainder.amount}; give a standalone price",
        )
    out = {
        o.id: _line(o, observed[o.id], AllocationBasis.AT_STANDALONE)
        for o in shared
        if o is not rest
    }
    out[rest.id] = _line(rest, remainder, AllocationBasis.RESIDUAL)
    return out


def _with_discount(
    price: Money,
    obligations: Sequence[Obligation],
    shared: list[Obligation],
    discount_to: Sequence[str],
    path: str,
) -> dict[str, AllocationLine]:
    """Obligations outside ``discount_to`` at standalone price; the rest share the remainder."""
    known = {o.id for o in shared}
    for name in discount_to:
        if name not in known:
            raise RevenueInputError(
                "contract.discount_to", f"{name!r} is not an obligation sharing the price"
            )
    full = [o for o in shared if o.id not in discount_to]
    part = [o for o in shared if o.id in discount_to]
    out: dict[str, AllocationLine] = {}
    taken = Money.zero(price.currency)
    for o in full:
        amount = Money.of(_ssp(o, obligations, path), price.currency).rounded()
        out[o.id] = _line(o, amount, AllocationBasis.AT_STANDALONE)
        taken = taken + amount
    remainder = price.rounded() - taken
    if remainder.is_negative():
        raise RevenueInputError(
            "contract.discount_to", "standalone prices outside the discount exceed the price"
        )
    weights = [_ssp(o, obligations, path) for o in part]
    if sum(weights, Decimal(0)) == 0:
        raise RevenueInputError(
            "contract.discount_to", "standalone prices of the discounted obligations sum to zero"
        )
    for o, amount in zip(part, allocate(remainder, weights), strict=True):
        out[o.id] = _line(o, amount, AllocationBasis.DISCOUNT)
    return out
