"""Backlog conversion: when a contract's remaining value becomes revenue, by billing model.

Each function returns plain tuples ``(month index, source kind, source id, refs, amount)``
for the months ``first..last`` (inclusive) and appends findings for backlog it cannot
place. Amounts are whole minor units of the contract's currency.

- time & materials: each assignment's planned hours x bill rate (rounded half-up), in
  month order, until the remaining value is used up (the cap);
- fixed fee, milestones: each open milestone in its due month (an overdue one in the first
  open month), also capped by the remaining value;
- percent complete: the remaining value spread over the plan's future increments of
  cumulative percent complete (largest remainder);
- retainer: the fee of each period spread evenly over the period's months (largest
  remainder), capped by the remaining value; with no fee, the remaining value
  straight-line over the remaining months of the term.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from pshub.domain.findings import Finding, Severity
from pshub.domain.forecast.inputs import Assignment, ContractForecastInput
from pshub.domain.forecast.months import month_index, month_of
from pshub.domain.forecast.results import SourceKind, trusted_money
from pshub.domain.money import allocate, quantum
from pshub.domain.sales import BillingModel

Contribution = tuple[int, SourceKind, str, tuple[str, ...], Decimal]
ZERO = Decimal(0)


def convert(
    contract: ContractForecastInput,
    assignments: Sequence[Assignment],
    first: int,
    last: int,
    findings: list[Finding],
) -> list[Contribution]:
    """The contract's backlog placed in months ``first..last`` by its billing model."""
    model = contract.billing_model
    if model is BillingModel.TIME_AND_MATERIALS:
        return time_and_materials(contract, assignments, first, last, findings)
    if model is BillingModel.FIXED_FEE_MILESTONE:
        return milestones(contract, first, last, findings)
    if model is BillingModel.PERCENT_COMPLETE:
        return percent_complete(contract, first, last, findings)
    return retainer(contract, first, last, findings)


def time_and_materials(
    contract: ContractForecastInput,
    assignments: Sequence[Assignment],
    first: int,
    last: int,
    findings: list[Finding],
) -> list[Contribution]:
    """Hours x rate per assignment, in (month, id) order, capped by the remaining value."""
    q = quantum(contract.currency)
    cap = remaining(contract)
    refs = (contract.id,)
    out: list[Contribution] = []
    planned = sorted((month_index(a.month), a.id, a) for a in assignments)
    for m, aid, a in planned:
        if m < first or m > last or cap <= 0:
            continue
        take = min((a.planned_hours * a.bill_rate.amount).quantize(q, ROUND_HALF_UP), cap)
        cap -= take
        if take:
            out.append((m, SourceKind.ASSIGNMENT, aid, refs, take))
    if not planned and cap > 0:
        _unplaced(findings, contract, "tm_backlog_unassigned", "no assignments plan its hours")
    return out


def milestones(
    contract: ContractForecastInput, first: int, last: int, findings: list[Finding]
) -> list[Contribution]:
    """Open milestones in their due month (overdue: first open month), capped by remaining."""
    cap = remaining(contract)
    refs = (contract.id,)
    out: list[Contribution] = []
    open_ = sorted(
        (max(month_of(m.due_date), first), m.id, m.amount.amount)
        for m in contract.milestones
        if not m.recognised
    )
    unscheduled = cap - sum((amount for _, _, amount in open_), ZERO)
    for m, mid, amount in open_:
        take = min(amount, cap)
        cap -= take
        if take and m <= last:
            out.append((m, SourceKind.MILESTONE, mid, refs, take))
    if unscheduled > 0:
        _unplaced(
            findings,
            contract,
            "milestone_backlog_unscheduled",
            "no open milestone carries it",
            unscheduled,
        )
    return out


def percent_complete(
    contract: ContractForecastInput, first: int, last: int, findings: list[Finding]
) -> list[Contribution]:
    """Remaining value spread over the future increments of the percent-complete plan."""
    rest = contract.remaining_value
    steps: list[tuple[int, Decimal]] = []
    before = ZERO
    for point in contract.percent_complete_plan:
        m = month_index(point.month)
        if m >= first and point.cumulative_percent > before:
            steps.append((m, point.cumulative_percent - before))
        before = point.cumulative_percent
    if not steps:
        if rest.amount > 0:
            _unplaced(findings, contract, "plan_exhausted", "the plan has no future progress")
        return []
    parts = allocate(rest, [w for _, w in steps])
    return [
        (m, SourceKind.CONTRACT, contract.id, (), part.amount)
        for (m, _), part in zip(steps, parts, strict=True)
        if part.amount and m <= last
    ]


def retainer(
    contract: ContractForecastInput, first: int, last: int, findings: list[Finding]
) -> list[Contribution]:
    """Straight-line: each period's fee over its months, capped by the remaining value."""
    start, end = month_of(contract.start_date), month_of(contract.end_date)
    lo = max(start, first)
    if end < lo:
        if remaining(contract) > 0:
            _unplaced(findings, contract, "term_ended", "the term ended before the first month")
        return []
    if contract.retainer_fee is None:
        parts = allocate(contract.remaining_value, [1] * (end - lo + 1))
        amounts = [(lo + k, p.amount) for k, p in enumerate(parts)]
    else:
        n = contract.retainer_period_months
        per_month = [p.amount for p in allocate(contract.retainer_fee, [1] * n)]
        amounts = [(m, per_month[(m - start) % n]) for m in range(lo, end + 1)]
    cap = remaining(contract)
    out: list[Contribution] = []
    for m, amount in amounts:
        take = min(amount, cap)
        cap -= take
        if take and m <= last:
            out.append((m, SourceKind.CONTRACT, contract.id, (), take))
    if cap > 0:
        _unplaced(findings, contract, "retainer_short", "the fees left in the term are less", cap)
    return out


def remaining(contract: ContractForecastInput) -> Decimal:
    """Backlog as a bare Decimal (the hot path avoids building Money per contract)."""
    return max(contract.value.amount - contract.recognised_to_date.amount, ZERO)


def _unplaced(
    findings: list[Finding],
    contract: ContractForecastInput,
    code: str,
    why: str,
    amount: Decimal | None = None,
) -> None:
    held = remaining(contract) if amount is None else amount
    findings.append(
        Finding(
            code=code,
            message=f"contract {contract.id}: backlog not forecast: {why}",
            severity=Severity.WARNING,
            record=contract.id,
            amount=trusted_money(held, contract.currency),
        )
    )
