"""Each contract's revenue case from its facts, and the engine run over all of them.

The contract's billing model picks the obligations (ASC 606 measure in brackets):

* ``time_and_materials``: one obligation under the right-to-invoice expedient (606-10-55-18),
  measured in currency: rate 1, "hours" = the net billable amount of posted time and
  expenses of the period (rates differ by role, the amount is what the hub may invoice).
  A reversal that takes a period below zero is carried into the next period.
* ``fixed_fee_milestone``: one point-in-time obligation per project milestone, standalone
  price = the milestone's amount, satisfied in the period of acceptance.
* ``percent_complete``: one obligation by cost-to-cost (606-10-55-20/21): cost incurred =
  cost of posted lines; estimated total cost = the project budget x ``planned_cost_ratio``
  (no lower than the cost to date).
* ``retainer``: straight line from the start month to the end month.

Invoices (net) are ``billed`` rows, payments (net share) ``collected`` rows, amendments
``modification`` rows. Periods run from the first month with a fact or the start month to
the close period (to the end month for straight-line service periods).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pshub.close.facts import ZERO, ContractFacts, periods_between
from pshub.domain.revenue import (
    Activity,
    ContractTerms,
    Method,
    Obligation,
    PeriodResult,
    RevenueCase,
    RevenueInputError,
    run_contract,
)

PLANNED_COST_RATIO = Decimal("0.6")  # budgeted cost / budgeted revenue of a fixed-fee project


@dataclass(frozen=True, slots=True)
class Outcome:
    """One contract's close: the period's result (None before it starts) or why it failed."""

    facts: ContractFacts
    result: PeriodResult | None
    findings: tuple[str, ...] = ()
    error: str | None = None


def build_case(
    facts: ContractFacts, period: str, cost_ratio: Decimal = PLANNED_COST_RATIO
) -> RevenueCase | None:
    """The contract's case through ``period``; None when nothing has happened yet."""
    info = facts.info
    first = _first_period(facts)
    if first is None or first > period:
        return None
    last = period
    if info.billing_model == "retainer" and info.end and info.end > last:
        last = info.end
    obligations, activity = _obligations(facts, period, cost_ratio)
    activity += _money_rows(facts)
    activity += list(facts.amendments)
    signed = info.value if info.signed_value is None else info.signed_value
    price = ZERO if info.billing_model == "time_and_materials" else signed
    periods = periods_between(first, last)
    return RevenueCase(
        currency=info.currency,
        periods=periods,
        contract=ContractTerms(price=price, obligations=tuple(obligations)),
        # the engine reads facts in period order; a modification first within its period, so
        # a milestone it adds can be accepted in the same month
        activity=tuple(
            sorted(
                (row for row in activity if row.period <= period),
                key=lambda row: (row.period, row.modification is None),
            )
        ),
    )


def _first_period(facts: ContractFacts) -> str | None:
    seen: list[str] = [*facts.delivered, *facts.cost, *facts.billed, *facts.collected]
    seen += facts.accepted.values()
    seen += [row.period for row in facts.amendments]
    if facts.info.start:
        seen.append(facts.info.start)
    return min(seen) if seen else None


def _obligations(
    facts: ContractFacts, period: str, cost_ratio: Decimal
) -> tuple[list[Obligation], list[Activity]]:
    model = facts.info.billing_model
    if model == "time_and_materials":
        return _time_and_materials(facts)
    if model == "fixed_fee_milestone":
        return _milestones(facts)
    if model == "percent_complete":
        return _percent_complete(facts, cost_ratio)
    if model == "retainer":
        info = facts.info
        start = info.start or period
        end = info.end or start
        ob = Obligation(id="retainer", method=Method.STRAIGHT_LINE, start=start, end=end)
        return [ob], []
    raise RevenueInputError("contract.billing_model", f"no revenue method for {model!r}")


def _time_and_materials(facts: ContractFacts) -> tuple[list[Obligation], list[Activity]]:
    ob = Obligation(id="time_and_materials", method=Method.TIME_AND_MATERIALS, rate=Decimal(1))
    rows, carry = [], ZERO
    for label in sorted(facts.delivered):
        amount = facts.delivered[label] + carry
        carry = min(amount, ZERO)  # a reversal below zero waits for the next period
        if amount > 0:
            rows.append(Activity(period=label, obligation=ob.id, hours=amount))
    return [ob], rows


def _milestones(facts: ContractFacts) -> tuple[list[Obligation], list[Activity]]:
    info = facts.info
    signed = info.milestones if info.signed_milestones is None else info.signed_milestones
    found = signed or (
        ("delivery", info.value if info.signed_value is None else info.signed_value),
    )
    obs = [
        Obligation(id=mid, method=Method.POINT_IN_TIME, standalone_price=amount)
        for mid, amount in found
    ]
    known = {ob.id for ob in obs} | {
        added.id
        for row in facts.amendments
        if row.modification is not None
        for added in row.modification.add_obligations
    }  # milestones a change order added are obligations from its period on
    rows = [
        Activity(period=label, obligation=mid, satisfied=True)
        for mid, label in facts.accepted.items()
        if mid in known
    ]
    return obs, rows


def _percent_complete(
    facts: ContractFacts, cost_ratio: Decimal
) -> tuple[list[Obligation], list[Activity]]:
    ob = Obligation(id="cost_to_cost", method=Method.PERCENT_COMPLETE)
    planned = (facts.info.budget or facts.info.value) * cost_ratio
    rows, to_date = [], ZERO
    for label in sorted(facts.cost):
        incurred = facts.cost[label]
        if incurred <= 0:
            continue
        to_date += incurred
        rows.append(
            Activity(
                period=label,
                obligation=ob.id,
                cost_incurred=incurred,
                estimated_total_cost=max(planned, to_date),
            )
        )
    return [ob], rows


def _money_rows(facts: ContractFacts) -> list[Activity]:
    rows = [Activity(period=p, billed=a) for p, a in sorted(facts.billed.items()) if a]
    rows += [Activity(period=p, collected=a) for p, a in sorted(facts.collected.items()) if a]
    return rows


def run_one(facts: ContractFacts, period: str) -> Outcome:
    """Run the engine for one contract and keep the close period's result."""
    try:
        case = build_case(facts, period)
        if case is None:
            return Outcome(facts, None)
        result = run_contract(case)
    except (RevenueInputError, ValueError) as exc:
        return Outcome(facts, None, error=str(exc))
    mine = next(p for p in result.periods if p.period == period)
    notes = tuple(f"{f.code}: {f.message}" for f in result.findings if f.period in (None, period))
    return Outcome(facts, mine, notes)


def run_all(items: Iterable[ContractFacts], period: str) -> list[Outcome]:
    """The engine over every contract (pure; no I/O)."""
    return [run_one(facts, period) for facts in items]
