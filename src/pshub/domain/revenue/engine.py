"""The revenue engine: one contract, its periods and facts in, revenue and journals out.

Within a period, modifications and variable re-estimates take effect first (at the start
of the period), then the period's facts are recorded, then revenue is measured; the
revenue entry is posted before the period's billing and collection entries, which keep
the order of the case file.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pshub.domain.money import Money
from pshub.domain.revenue.balances import Balances, balances
from pshub.domain.revenue.journals import EntryKind, JournalEntry, entry_for_change
from pshub.domain.revenue.methods import ZERO
from pshub.domain.revenue.modifications import ModificationDecision
from pshub.domain.revenue.obligations import Activity, RevenueCase
from pshub.domain.revenue.results import (
    FindingSeverity,
    PeriodResult,
    RevenueFinding,
    RevenueResult,
)
from pshub.domain.revenue.state import ContractState, check_rows


def run_contract(case: RevenueCase) -> RevenueResult:
    """Recognise revenue for ``case`` period by period (pure; raises RevenueInputError)."""
    kinds = check_rows(case, case.activity)
    state = ContractState(case)
    state.start()
    initial_price = state.transaction_price()
    initial_included, initial_held = state.variable_included, state.variable_held_back
    ledger = _Ledger(state)
    periods = [
        ledger.run_period(idx, label, case.activity, kinds)
        for idx, label in enumerate(case.periods)
    ]
    return RevenueResult(
        currency=case.currency,
        transaction_price=state.money(initial_price),
        variable_included=state.money(initial_included),
        variable_constrained=state.money(initial_held),
        allocation=state.allocation,
        periods=tuple(periods),
        findings=tuple(state.findings),
        policy=case.policy,
    )


class _Ledger:
    """Cumulative billed/collected and the period loop."""

    def __init__(self, state: ContractState) -> None:
        self.state = state
        self.billed = ZERO
        self.collected = ZERO

    def _balances(self) -> Balances:
        s = self.state
        revenue = sum((o.recognized for o in s.states.values()), ZERO)
        return balances(s.money(revenue), s.money(self.billed), s.money(self.collected))

    def run_period(
        self, idx: int, label: str, rows: Sequence[Activity], kinds: Sequence[str]
    ) -> PeriodResult:
        s = self.state
        mine = [(i, row, kinds[i]) for i, row in enumerate(rows) if row.period == label]
        decisions = self._changes(idx, mine)
        for i, row, kind in mine:
            if kind in ("cost", "hours", "satisfied"):
                s.apply_fact(row, kind, f"activity[{i}]")
        before = self._balances()
        revenue = self._measure(idx, label)
        entries = [
            entry_for_change(
                label, EntryKind.REVENUE, "revenue recognised", before, self._balances(), revenue
            )
        ]
        billed_by: dict[str, Decimal] = {}
        period_billed = period_collected = ZERO
        for i, row, kind in mine:
            if kind == "billed" and row.billed is not None:
                amount = s.exact(row.billed, f"activity[{i}].billed")
                if row.obligation is not None:
                    s.obligation(row.obligation, f"activity[{i}].obligation")
                key = row.obligation or "contract"
                billed_by[key] = billed_by.get(key, ZERO) + amount
                period_billed += amount
                entries.append(self._post(label, EntryKind.BILLING, f"billed {key}", billed=amount))
            elif kind == "collected" and row.collected is not None:
                amount = s.exact(row.collected, f"activity[{i}].collected")
                period_collected += amount
                entries.append(
                    self._post(label, EntryKind.COLLECTION, "cash collected", collected=amount)
                )
        end = self._balances()
        total = sum(revenue.values(), ZERO)
        return PeriodResult(
            period=label,
            revenue_by_obligation={name: s.money(v) for name, v in revenue.items()},
            revenue=s.money(total),
            cumulative_revenue=end.revenue,
            billed=s.money(period_billed),
            collected=s.money(period_collected),
            cumulative_billed=end.billed,
            cumulative_collected=end.collected,
            receivable=end.receivable,
            contract_asset=end.contract_asset,
            contract_liability=end.contract_liability,
            transaction_price=s.money(s.transaction_price()),
            entries=tuple(e for e in entries if e is not None),
            modifications=tuple(decisions),
        )

    def _changes(
        self, idx: int, mine: Sequence[tuple[int, Activity, str]]
    ) -> list[ModificationDecision]:
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

    def _measure(self, idx: int, label: str) -> dict[str, Decimal]:
        """Revenue of the period per obligation: rounded cumulative target minus recognised."""
        s = self.state
        places = s.case.policy.progress_decimals
        out: dict[str, Decimal] = {}
        for name, ob in s.states.items():
            target = s.cents(ob.target(ob.progress(idx, places)))
            if not ob.shares_price:
                ob.allocated = target  # T&M: consideration earned so far
            out[name] = target - ob.recognized
            ob.recognized = target
            self._notes(label, name, ob.over_estimate(), out[name])
        return out

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

    def _post(
        self,
        label: str,
        kind: EntryKind,
        memo: str,
        billed: Decimal = ZERO,
        collected: Decimal = ZERO,
    ) -> JournalEntry | None:
        before = self._balances()
        self.billed += billed
        self.collected += collected
        return entry_for_change(label, kind, memo, before, self._balances())


def total_revenue(result: RevenueResult) -> Money:
    """Cumulative revenue at the last period."""
    return result.periods[-1].cumulative_revenue
