"""Pure parts of the close: each billing model's revenue case, and the aggregated journals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pshub.close.cases import build_case, run_all, run_one
from pshub.close.facts import ContractFacts, ContractInfo, next_period, periods_between
from pshub.close.journals import aggregate, period_end
from pshub.close.reconcile import summarise
from pshub.close.reconcile_types import Difference

D = Decimal


def facts(model: str, **changes: object) -> ContractFacts:
    info = ContractInfo(
        contract_id=f"ctr_{model}",
        opportunity_id="opp_1",
        legal_entity="US",
        currency="USD",
        billing_model=model,
        value=D("12000"),
        start="2026-10",
        end="2027-09",
        project_id="prj_1",
        budget=D("12000"),
        milestones=(("m1", D("4000")), ("m2", D("8000"))),
    )
    return ContractFacts(info=info, **changes)  # type: ignore[arg-type]


def test_time_and_materials_revenue_is_the_net_billable_amount_of_each_period() -> None:
    """| period  | posted | reversed | revenue |
    |---------|--------|----------|---------|
    | 2026-10 | 1,500  |          | 1,500   |
    | 2026-11 |   200  |   -500   |     0   |  (300 carried)
    | 2026-12 | 1,000  |          |   700   |"""
    f = facts(
        "time_and_materials",
        delivered={"2026-10": D("1500"), "2026-11": D("-300"), "2026-12": D("1000")},
    )

    revenue = [run_one(f, p).result.revenue.amount for p in ("2026-10", "2026-11", "2026-12")]  # type: ignore[union-attr]

    assert revenue == [D("1500.00"), D("0.00"), D("700.00")]


def test_a_milestone_is_recognised_at_its_standalone_price_when_accepted() -> None:
    f = facts("fixed_fee_milestone", accepted={"m1": "2026-11"}, billed={"2026-11": D("4000")})

    result = run_one(f, "2026-11").result

    assert result is not None
    assert result.revenue.amount == D("4000.00")
    assert result.receivable.amount == D("4000.00")
    assert result.contract_asset.amount == D("0.00")


def test_percent_complete_uses_cost_to_date_over_the_planned_cost() -> None:
    """Budget 12,000 x planned cost ratio 0.6 = 7,200 estimated cost; 1,800 incurred = 25 %."""
    f = facts("percent_complete", cost={"2026-10": D("1800")})

    result = run_one(f, "2026-10").result

    assert result is not None and result.revenue.amount == D("3000.00")


def test_a_retainer_is_recognised_straight_line_and_billing_ahead_is_deferred() -> None:
    f = facts("retainer", billed={"2026-10": D("3000")})

    result = run_one(f, "2026-10").result

    assert result is not None
    assert result.revenue.amount == D("1000.00")  # 12,000 over 12 months
    assert result.contract_liability.amount == D("2000.00")


def test_a_contract_that_has_not_started_has_no_case() -> None:
    assert build_case(facts("retainer"), "2026-09") is None


def test_journals_are_summed_per_currency_and_kind_and_always_balance() -> None:
    outcomes = run_all(
        [
            facts("retainer", billed={"2026-10": D("3000")}),
            facts("fixed_fee_milestone", accepted={"m1": "2026-10"}),
        ],
        "2026-10",
    )

    plans = aggregate("US", "2026-10", outcomes)

    assert [p.kind for p in plans] == ["billing", "revenue"]
    for plan in plans:
        assert plan.total_debit == plan.total_credit
    revenue = plans[1]
    assert revenue.total_credit == D("5000.00")
    assert revenue.contracts == 2
    assert revenue.key == "close:US:2026-10:USD:revenue"


@pytest.mark.parametrize(
    ("first", "last", "n"), [("2026-11", "2027-02", 4), ("2026-12", "2026-12", 1)]
)
def test_periods_run_month_by_month_across_year_ends(first: str, last: str, n: int) -> None:
    labels = periods_between(first, last)
    assert len(labels) == n and labels[-1] == last


def test_the_journal_date_is_the_last_day_of_the_period() -> None:
    assert str(period_end("2027-02")) == "2027-02-28"
    assert next_period("2026-12") == "2027-01"


def test_timing_differences_are_explained_and_breaks_are_counted_apart() -> None:
    diffs = [
        Difference("unbilled_wip", "c1", D("10"), "USD", "", ()),
        Difference("missing_invoice", "c1", D("5"), "USD", "", ()),
        Difference("odd", "c2", D("1"), "USD", "", ()),
    ]

    summary = summarise(diffs)

    assert (summary["timing"], summary["break"], summary["unexplained"]) == (1, 1, 1)


def _version(price: str, change: str, milestones: list[tuple[str, str]], day: str) -> object:
    from datetime import date, datetime
    from types import SimpleNamespace

    return SimpleNamespace(
        price=D(price),
        price_change=D(change),
        distinct=None,
        standalone_price=None,
        effective_date=date.fromisoformat(day),
        created_at=datetime.fromisoformat(f"{day}T00:00:00+00:00"),
        terms={
            "milestones": [
                {"id": mid, "amount": {"amount": amount, "currency": "USD"}}
                for mid, amount in milestones
            ]
        },
    )


def test_a_change_order_adding_a_milestone_at_its_price_is_a_separate_contract() -> None:
    """Version 1: m1 4,000 + m2 8,000 = 12,000. Version 2 (effective 2026-12) adds m3 3,000
    and the price rises by 3,000: distinct scope priced at its own amount, so a separate
    contract (ASC 606-10-25-12); m1's revenue is untouched and m3's is its 3,000.

    | period  | fact                | revenue |
    |---------|---------------------|---------|
    | 2026-11 | m1 accepted         | 4,000   |
    | 2026-12 | change order (v2)   | 0       |
    | 2027-01 | m3 accepted         | 3,000   |"""
    from pshub.close.facts import amended

    v1 = _version("12000", "0", [("m1", "4000"), ("m2", "8000")], "2026-10-01")
    v2 = _version("15000", "3000", [("m1", "4000"), ("m2", "8000"), ("m3", "3000")], "2026-12-05")
    current = facts("fixed_fee_milestone", accepted={"m1": "2026-11", "m3": "2027-01"})
    found = amended(current.info, [v1, v2], "2027-01")
    assert found is not None
    base, rows = found
    assert base.signed_value == D("12000") and base.signed_milestones is not None
    assert [m for m, _ in base.signed_milestones] == ["m1", "m2"]
    (row,) = rows
    assert row.period == "2026-12" and row.modification is not None
    assert row.modification.price_change == D("3000")
    assert [o.id for o in row.modification.add_obligations] == ["m3"]
    assert row.modification.distinct is True and row.modification.at_standalone_price is True

    amended_facts = facts("fixed_fee_milestone", accepted={"m1": "2026-11", "m3": "2027-01"})
    amended_facts.info, amended_facts.amendments = base, rows
    revenue = [
        run_one(amended_facts, p).result.revenue.amount  # type: ignore[union-attr]
        for p in ("2026-11", "2026-12", "2027-01")
    ]
    assert revenue == [D("4000.00"), D("0.00"), D("3000.00")]
    assert amended(current.info, [v1], "2027-01") is None  # one version: nothing amended
