"""The revenue engine: one contract, its periods and facts in, revenue and journals out.

Within a period, modifications and variable re-estimates take effect first (at the start
of the period), then the period's facts are recorded, then revenue is measured; the
revenue entry is posted before the period's billing and collection entries, which keep
the order of the case file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from pshub.domain.money import Money
from pshub.domain.revenue.balances import position
from pshub.domain.revenue.build import MoneyMaker, trusted
from pshub.domain.revenue.journals import EntryKind, Journal, JournalEntry
from pshub.domain.revenue.methods import ZERO
from pshub.domain.revenue.modifications import ModificationDecision
from pshub.domain.revenue.obligations import RevenueCase
from pshub.domain.revenue.results import (
    FindingSeverity,
    PeriodResult,
    RevenueFinding,
    RevenueResult,
)
from pshub.domain.revenue.state import ContractState, Row, rows_by_period

_RECOGNISED, _COLLECTED = "revenue recognised", "cash collected"  # memos
_Moves = tuple[Decimal, Decimal, Decimal, Decimal]  # cash, receivable, asset, liability


def run_contract(case: RevenueCase) -> RevenueResult:
    """Recognise revenue for ``case`` period by period (pure; raises RevenueInputError)."""
    grouped = rows_by_period(case)
    state = ContractState(case)
    state.start()
    money = MoneyMaker(case.currency)
    initial_price = state.transaction_price()
    initial_included, initial_held = state.variable_included, state.variable_held_back
    ledger = _Ledger(state, money)
    periods = [
        ledger.run_period(idx, label, grouped[idx]) for idx, label in enumerate(case.periods)
    ]
    return trusted(
        RevenueResult,
        {
            "currency": case.currency,
            "transaction_price": money(initial_price),
            "variable_included": money(initial_included),
            "variable_constrained": money(initial_held),
            "allocation": state.allocation,
            "periods": tuple(periods),
            "findings": tuple(state.findings),
            "policy": case.policy,
        },
    )


def run_contracts(cases: Iterable[RevenueCase]) -> list[RevenueResult]:
    """:func:`run_contract` for each case, in order (the batch entry point of the close).

    A caller holding thousands of inputs alive should stream them or ``gc.freeze()`` them:
    otherwise the cyclic garbage collector rescans them all the time (bench/revenue_engine.py:
    about 3x slower with 10,000 case dicts left in the collector's generations).
    """
    return [run_contract(case) for case in cases]


class _Ledger:
    """Cumulative revenue/billed/collected, the balances they give, and the period loop.

    Amounts stay plain Decimals inside the loop; Money and the result models are built once
    per output value (see :mod:`pshub.domain.revenue.build`).
    """

    def __init__(self, state: ContractState, money: MoneyMaker) -> None:
        self.state = state
        self.money = money
        self.journal = Journal(money)
        self.zero = money.zero_amount
        self.places = state.case.policy.progress_decimals
        self.revenue = self.billed = self.collected = ZERO
        self.receivable, self.asset, self.liability = position(ZERO, ZERO, ZERO, self.zero)

    def _to(self, revenue: Decimal, billed: Decimal, collected: Decimal) -> _Moves:
        """Moves of the balance accounts from the current figures to these (now current)."""
        receivable, asset, liability = position(revenue, billed, collected, self.zero)
        moves = (
            collected - self.collected,
            receivable - self.receivable,
            asset - self.asset,
            liability - self.liability,
        )
        self.revenue, self.billed, self.collected = revenue, billed, collected
        self.receivable, self.asset, self.liability = receivable, asset, liability
        return moves

    def run_period(self, idx: int, label: str, mine: Sequence[Row]) -> PeriodResult:
        s, journal = self.state, self.journal
        decisions = self._changes(idx, mine)
        for i, row, kind in mine:
            if kind == "cost" or kind == "hours" or kind == "satisfied":
                s.apply_fact(row, kind, i)
        revenue, before, after = self._measure(idx, label)
        # Modifications and facts move no balance; recognising revenue moves only the net
        # contract position (cash and receivable depend on billed and collected alone).
        self.revenue = before
        self.receivable, self.asset, self.liability = position(
            before, self.billed, self.collected, self.zero
        )
        moves = self._to(after, self.billed, self.collected)
        entries: list[JournalEntry] = []
        entry = journal.entry(label, EntryKind.REVENUE, _RECOGNISED, moves, revenue.items())
        if entry is not None:
            entries.append(entry)
        period_billed = period_collected = ZERO
        for i, row, kind in mine:
            if kind == "billed" and row.billed is not None:
                amount = s.exact(row.billed, f"activity[{i}].billed")
                if row.obligation is not None:
                    s.obligation(row.obligation, f"activity[{i}].obligation")
                period_billed += amount
                moves = self._to(self.revenue, self.billed + amount, self.collected)
                memo = f"billed {row.obligation or 'contract'}"
                entry = journal.entry(label, EntryKind.BILLING, memo, moves)
            elif kind == "collected" and row.collected is not None:
                amount = s.exact(row.collected, f"activity[{i}].collected")
                period_collected += amount
                moves = self._to(self.revenue, self.billed, self.collected + amount)
                entry = journal.entry(label, EntryKind.COLLECTION, _COLLECTED, moves)
            else:
                continue
            if entry is not None:
                entries.append(entry)
        return self._result(label, revenue, period_billed, period_collected, entries, decisions)

    def _result(
        self,
        label: str,
        revenue: dict[str, Decimal],
        billed: Decimal,
        collected: Decimal,
        entries: list[JournalEntry],
        decisions: list[ModificationDecision],
    ) -> PeriodResult:
        money = self.money.make
        fields = {
            "period": label,
            "revenue_by_obligation": {name: money(v) for name, v in revenue.items()},
            "revenue": money(sum(revenue.values(), ZERO)),
            "cumulative_revenue": money(self.revenue),
            "billed": money(billed),
            "collected": money(collected),
            "cumulative_billed": money(self.billed),
            "cumulative_collected": money(self.collected),
            "receivable": money(self.receivable),
            "contract_asset": money(self.asset),
            "contract_liability": money(self.liability),
            "transaction_price": money(self.state.transaction_price()),
            "entries": tuple(entries),
            "modifications": tuple(decisions),
        }
        return trusted(PeriodResult, fields)

    def _changes(self, idx: int, mine: Sequence[Row]) -> list[ModificationDecision]:
        """Modifications and variable re-estimates, at the start of the period."""
        s = self.state
        decisions = []
        for i, row, kind in mine:
            if kind == "modification" and row.modification is not None:
                decisions.append(
                    s.apply_modification(row.modification, idx, f"activity[{i}].modification")
                )
            elif kind == "variable" and row.variable is not None:
                s.apply_variable(row.variable, row.period, f"activity[{i}].variable")
        return decisions

    def _measure(self, idx: int, label: str) -> tuple[dict[str, Decimal], Decimal, Decimal]:
        """Revenue of the period per obligation (rounded cumulative target minus recognised),
        and cumulative revenue before and after."""
        s, places, cent = self.state, self.places, self.state.quantum
        out: dict[str, Decimal] = {}
        before = after = ZERO
        for name, ob in s.states.items():
            before += ob.recognized
            target = ob.target(ob.progress(idx, places)).quantize(cent, rounding=ROUND_HALF_UP)
            if not ob.shares_price:
                ob.allocated = target  # T&M: consideration earned so far
            change = out[name] = target - ob.recognized
            ob.recognized = target
            after += target
            over = ob.over  # set by progress(): costs exceed the estimate
            if over or change < 0:
                self._notes(label, name, over, change)
        return out, before, after

    def _notes(self, label: str, name: str, over: bool, revenue: Decimal) -> None:
        s = self.state
        if over:
            s.findings.append(
                RevenueFinding(
                    code="costs_exceed_estimate",
                    message="costs depicting progress exceed the estimate; progress capped at 1",
                    period=label,
                    obligation=name,
                )
            )
        if revenue < 0:
            s.findings.append(
                RevenueFinding(
                    code="revenue_reversal",
                    message="cumulative revenue went down (catch-up of an estimate or a price)",
                    severity=FindingSeverity.INFO,
                    period=label,
                    obligation=name,
                    amount=s.money(revenue),
                )
            )


def total_revenue(result: RevenueResult) -> Money:
    """Cumulative revenue at the last period."""
    return result.periods[-1].cumulative_revenue
