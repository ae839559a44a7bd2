"""Journal entries with explicit debit and credit that always balance.

An entry is derived from the change of the contract balances an event causes: assets
(Cash, Receivable, Contract asset) increase with a debit, the liability and Revenue with a
credit. Because Cash + AR + contract asset - contract liability = revenue holds before and
after every event, the entry balances by construction; :class:`JournalEntry` still checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from pshub.domain.money import Money, total
from pshub.domain.revenue.balances import Balances


class UnbalancedEntryError(ValueError):
    """Debits and credits of an entry differ: a bug, never a business outcome."""


class Account(StrEnum):
    RECEIVABLE = "Receivable"
    CONTRACT_ASSET = "Contract asset"
    CONTRACT_LIABILITY = "Contract liability"
    REVENUE = "Revenue"
    CASH = "Cash"


DEBIT_NORMAL = frozenset({Account.CASH, Account.RECEIVABLE, Account.CONTRACT_ASSET})


class EntryKind(StrEnum):
    REVENUE = "revenue"
    BILLING = "billing"
    COLLECTION = "collection"


class JournalLine(BaseModel):
    """One line: exactly one of debit and credit is non-zero; both are never negative."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: Account
    debit: Money
    credit: Money
    obligation: str | None = None

    @model_validator(mode="after")
    def _check(self) -> JournalLine:
        if self.debit.is_negative() or self.credit.is_negative():
            raise ValueError("debit and credit must not be negative")
        if self.debit.is_zero() == self.credit.is_zero():
            raise ValueError("exactly one of debit and credit must be non-zero")
        return self


class JournalEntry(BaseModel):
    """A balanced entry of one period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: str
    kind: EntryKind
    memo: str
    lines: tuple[JournalLine, ...]

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntry:
        if not self.lines:
            raise UnbalancedEntryError("an entry needs lines")
        currency = self.lines[0].debit.currency
        debits = total((line.debit for line in self.lines), currency)
        credits = total((line.credit for line in self.lines), currency)
        if debits != credits:
            raise UnbalancedEntryError(
                f"{self.period} {self.kind}: debits {debits} != credits {credits}"
            )
        return self

    @property
    def total_debit(self) -> Money:
        return total((line.debit for line in self.lines), self.lines[0].debit.currency)

    @property
    def total_credit(self) -> Money:
        return total((line.credit for line in self.lines), self.lines[0].credit.currency)


def line(
    account: Account, increase: Decimal, currency: str, obligation: str | None = None
) -> JournalLine:
    """The line that moves ``account`` by ``increase`` (negative: a decrease)."""
    zero = Money.zero(currency).rounded()
    amount = Money.of(abs(increase), currency)
    debit_side = (increase > 0) == (account in DEBIT_NORMAL)
    return JournalLine(
        account=account,
        debit=amount if debit_side else zero,
        credit=zero if debit_side else amount,
        obligation=obligation,
    )


def entry_for_change(
    period: str,
    kind: EntryKind,
    memo: str,
    before: Balances,
    after: Balances,
    revenue_by_obligation: Mapping[str, Decimal] | None = None,
) -> JournalEntry | None:
    """The entry that takes the books from ``before`` to ``after`` (None when nothing moved)."""
    currency = after.revenue.currency
    moves = [
        (Account.CASH, after.collected.amount - before.collected.amount),
        (Account.RECEIVABLE, after.receivable.amount - before.receivable.amount),
        (Account.CONTRACT_ASSET, after.contract_asset.amount - before.contract_asset.amount),
        (
            Account.CONTRACT_LIABILITY,
            after.contract_liability.amount - before.contract_liability.amount,
        ),
    ]
    lines = [line(account, change, currency) for account, change in moves if change != 0]
    if revenue_by_obligation is None:
        revenue_change = after.revenue.amount - before.revenue.amount
        if revenue_change != 0:
            lines.append(line(Account.REVENUE, revenue_change, currency))
    else:
        lines.extend(
            line(Account.REVENUE, change, currency, obligation)
            for obligation, change in revenue_by_obligation.items()
            if change != 0
        )
    if not lines:
        return None
    return JournalEntry(period=period, kind=kind, memo=memo, lines=tuple(lines))
