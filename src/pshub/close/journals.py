"""The period's per-contract entries aggregated into a few balanced journals.

One journal per (legal entity, period, currency, entry kind): revenue recognised, billing
(receivable against contract asset / liability) and collection. Each engine entry balances,
so each sum balances; lines are netted per account (one debit or credit line per account).
The per-contract detail stays in the hub (``close_contract_results``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pshub.close.cases import Outcome
from pshub.close.facts import ZERO, next_period
from pshub.domain.ids import canonical_id
from pshub.domain.revenue import Account
from pshub.domain.revenue.journals import DEBIT_NORMAL

# The sandbox's chart of accounts (NetSuite internal ids): 1000 Operating Cash, 1100 Accounts
# Receivable, 1200 Unbilled Receivable (contract asset), 2400 Deferred Revenue (contract
# liability), 4000 Services Revenue.
ACCOUNT_IDS: dict[Account, str] = {
    Account.CASH: "1",
    Account.RECEIVABLE: "2",
    Account.CONTRACT_ASSET: "3",
    Account.CONTRACT_LIABILITY: "4",
    Account.REVENUE: "5",
}
ORDER = (
    Account.CONTRACT_ASSET,
    Account.RECEIVABLE,
    Account.CASH,
    Account.CONTRACT_LIABILITY,
    Account.REVENUE,
)


class UnbalancedJournal(ValueError):
    """An aggregated journal does not balance: a bug, never a business outcome."""


@dataclass(frozen=True, slots=True)
class PlannedLine:
    account: str  # Account value
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True, slots=True)
class JournalPlan:
    """A balanced journal the close posts to the ERP (upsert by ``canonical_id``)."""

    key: str
    canonical_id: str
    legal_entity: str
    period: str
    currency: str
    kind: str
    lines: tuple[PlannedLine, ...]
    contracts: int

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)


def journal_key(entity: str, period: str, currency: str, kind: str) -> str:
    return f"close:{entity}:{period}:{currency}:{kind}"


def aggregate(entity: str, period: str, outcomes: Iterable[Outcome]) -> list[JournalPlan]:
    """Sum the close period's entries of every contract per currency and kind."""
    sums: dict[tuple[str, str], dict[Account, Decimal]] = {}
    counts: dict[tuple[str, str], set[str]] = {}
    for outcome in outcomes:
        if outcome.result is None:
            continue
        for entry in outcome.result.entries:
            currency = entry.lines[0].debit.currency
            group = (currency, entry.kind.value)
            net = sums.setdefault(group, {})
            for line in entry.lines:
                net[line.account] = net.get(line.account, ZERO) + (
                    line.debit.amount - line.credit.amount
                )
            counts.setdefault(group, set()).add(outcome.facts.info.contract_id)
    plans = [
        _plan(entity, period, currency, kind, net, len(counts[(currency, kind)]))
        for (currency, kind), net in sorted(sums.items())
    ]
    return [p for p in plans if p.lines]


def _plan(
    entity: str, period: str, currency: str, kind: str, net: Mapping[Account, Decimal], n: int
) -> JournalPlan:
    lines = tuple(
        PlannedLine(account.value, max(net[account], ZERO), max(-net[account], ZERO))
        for account in ORDER
        if net.get(account, ZERO) != 0
    )
    key = journal_key(entity, period, currency, kind)
    plan = JournalPlan(
        key=key,
        canonical_id=canonical_id("journal", "pshub", key),
        legal_entity=entity,
        period=period,
        currency=currency,
        kind=kind,
        lines=lines,
        contracts=n,
    )
    if plan.total_debit != plan.total_credit:
        raise UnbalancedJournal(f"{key}: debits {plan.total_debit} != {plan.total_credit}")
    return plan


def period_end(period: str) -> date:
    """The last day of a ``YYYY-MM`` period (the journal's transaction date)."""
    following = next_period(period)
    return date(int(following[:4]), int(following[5:7]), 1) - timedelta(days=1)


def normal_balance(account: Account) -> str:
    return "debit" if account in DEBIT_NORMAL else "credit"
