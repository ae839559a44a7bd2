"""Journal entries with explicit debit and credit that always balance.

An entry is derived from the change of the contract balances an event causes: assets
(Cash, Receivable, Contract asset) increase with a debit, the liability and Revenue with a
credit. Because Cash + AR + contract asset - contract liability = revenue holds before and
after every event, the entry balances by construction, and it is still checked: by
:class:`Journal` (on plain Decimals) for the entries the engine builds, by the validator of
:class:`JournalEntry` for any built from data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from pshub.domain.money import Money, total
from pshub.domain.revenue.balances import Balances
from pshub.domain.revenue.build import MoneyMaker, trusted


class UnbalancedEntryError(ValueError):
    """Debits and credits of an entry differ: a bug, never a business outcome."""


class Account(StrEnum):
    RECEIVABLE = "Receivable"
    CONTRACT_ASSET = "Contract asset"
    CONTRACT_LIABILITY = "Contract liability"
    REVENUE = "Revenue"
    CASH = "Cash"


DEBIT_NORMAL = frozenset({Account.CASH, Account.RECEIVABLE, Account.CONTRACT_ASSET})
_DEBIT_SIDE = {account: account in DEBIT_NORMAL for account in Account}  # increase is a debit
_ZERO = Decimal(0)


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


# The accounts an event's balance-sheet moves are given for, in this order.
BALANCE_ACCOUNTS = (
    Account.CASH,
    Account.RECEIVABLE,
    Account.CONTRACT_ASSET,
    Account.CONTRACT_LIABILITY,
)
_Known = tuple[JournalLine, bool, Decimal]  # a built line, is it a debit, its amount


class Journal:
    """Builds the entries of one run in one currency; checks that every entry balances.

    Lines are valid by construction (one side the positive amount, the other zero), so they
    skip pydantic validation; being frozen, an equal line (same account, amount, side and
    obligation) is shared rather than built again. The balance check runs on plain Decimals.
    """

    __slots__ = ("_balance", "_revenue", "money")

    def __init__(self, money: MoneyMaker) -> None:
        self.money = money
        # increase as text (exact, and cheaper to hash than a Decimal) -> line, per account
        self._balance: tuple[dict[str, _Known], ...] = tuple({} for _ in BALANCE_ACCOUNTS)
        self._revenue: dict[str | None, dict[str, _Known]] = {}

    def entry(
        self,
        period: str,
        kind: EntryKind,
        memo: str,
        balance: Iterable[Decimal],
        revenue: Iterable[tuple[str | None, Decimal]] = (),
    ) -> JournalEntry | None:
        """The entry of these increases (negative: decreases) of the ``BALANCE_ACCOUNTS`` and
        of revenue per obligation; zero moves are left out, None when nothing moved."""
        lines: list[JournalLine] = []
        debits = credits = _ZERO
        for slot, increase in enumerate(balance):
            if increase:
                key = str(increase)
                known = self._balance[slot].get(key)
                if known is None:
                    account = BALANCE_ACCOUNTS[slot]
                    known = self._balance[slot][key] = self._line(account, increase, None)
                lines.append(known[0])
                if known[1]:
                    debits += known[2]
                else:
                    credits += known[2]
        for obligation, increase in revenue:
            if increase:
                key = str(increase)
                cache = self._revenue.get(obligation)
                if cache is None:
                    cache = self._revenue[obligation] = {}
                known = cache.get(key)
                if known is None:
                    known = cache[key] = self._line(Account.REVENUE, increase, obligation)
                lines.append(known[0])
                if known[1]:
                    debits += known[2]
                else:
                    credits += known[2]
        if not lines:
            return None
        if debits != credits:
            currency = self.money.currency
            raise UnbalancedEntryError(
                f"{period} {kind}: debits {Money.of(debits, currency)} "
                f"!= credits {Money.of(credits, currency)}"
            )
        fields = {"period": period, "kind": kind, "memo": memo, "lines": tuple(lines)}
        return trusted(JournalEntry, fields)

    def _line(self, account: Account, increase: Decimal, obligation: str | None) -> _Known:
        amount = abs(increase)
        is_debit = (increase > 0) is _DEBIT_SIDE[account]
        side, zero = self.money.make(amount), self.money.zero
        fields = {
            "account": account,
            "debit": side if is_debit else zero,
            "credit": zero if is_debit else side,
            "obligation": obligation,
        }
        return trusted(JournalLine, fields), is_debit, amount


def entry_for_change(
    period: str,
    kind: EntryKind,
    memo: str,
    before: Balances,
    after: Balances,
    revenue_by_obligation: Mapping[str, Decimal] | None = None,
) -> JournalEntry | None:
    """The entry that takes the books from ``before`` to ``after`` (None when nothing moved)."""
    balance = (
        after.collected.amount - before.collected.amount,
        after.receivable.amount - before.receivable.amount,
        after.contract_asset.amount - before.contract_asset.amount,
        after.contract_liability.amount - before.contract_liability.amount,
    )
    revenue: Iterable[tuple[str | None, Decimal]]
    if revenue_by_obligation is None:
        revenue = [(None, after.revenue.amount - before.revenue.amount)]
    else:
        revenue = revenue_by_obligation.items()
    journal = Journal(MoneyMaker(after.revenue.currency))
    return journal.entry(period, kind, memo, balance, revenue)
