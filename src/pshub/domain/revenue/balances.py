"""Contract balances at a point in time (ASC 606-10-45-1..4, IFRS 15.105-108).

From three cumulative figures of one contract — revenue recognised R, amounts billed B
(unconditional rights to consideration: invoices issued or amounts due) and cash collected
C — the balances are:

* receivable (AR) = max(B - C, 0)
* advance (cash received before it was billed) = max(C - B, 0)
* consideration received or due  = B + advance = max(B, C)
* net position = R - max(B, C); contract asset = max(net, 0), contract liability = max(-net, 0)

So at every period end: R + contract liability - contract asset = max(B, C), which is
"recognised + deferred - contract asset = billed" whenever collections do not run ahead of
billing; and Cash + AR + contract asset - contract liability = R (the balance sheet side of
every journal). The contract is presented net (one asset or one liability), as 45-1 requires.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money


class Balances(BaseModel):
    """Cumulative figures and balances of one contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    revenue: Money
    billed: Money
    collected: Money
    receivable: Money
    contract_asset: Money
    contract_liability: Money

    @property
    def cash(self) -> Money:
        return self.collected


def position(
    revenue: Decimal, billed: Decimal, collected: Decimal, zero: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(receivable, contract asset, contract liability) as plain amounts; the rules of
    :func:`balances`, for the engine's inner loop. ``zero`` is the currency's rounded zero."""
    net = revenue - (billed if billed >= collected else collected)
    return (
        billed - collected if billed > collected else zero,
        net if net > zero else zero,
        -net if net < zero else zero,
    )


def balances(revenue: Money, billed: Money, collected: Money) -> Balances:
    """Balances from cumulative revenue, billings and collections (all in one currency)."""
    zero = Money.zero(revenue.currency).rounded()
    received_or_due = billed if billed >= collected else collected
    net = revenue - received_or_due
    return Balances(
        revenue=revenue,
        billed=billed,
        collected=collected,
        receivable=billed - collected if billed > collected else zero,
        contract_asset=net if net > zero else zero,
        contract_liability=-net if net < zero else zero,
    )
