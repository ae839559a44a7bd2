"""Time-to-bill pricing rules: rates, costs, holds, cutoffs, caps, FX, findings with money."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pshub.domain.billing import (
    BillingCalendar,
    FxRates,
    LinePart,
    Period,
    ProjectBilling,
    WorkItem,
    WorkKind,
    price_work,
)
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.policy import load_policy

CARD = load_policy().rules.rate_cards["STD-GBP"]
CAL = BillingCalendar(
    periods=(
        Period(
            label="2026-10",
            start=date(2026, 10, 1),
            end=date(2026, 10, 31),
            cutoff=datetime(2026, 11, 3, 18, 0, tzinfo=UTC),
        ),
        Period(
            label="2026-11",
            start=date(2026, 11, 1),
            end=date(2026, 11, 30),
            cutoff=datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        ),
    )
)
FX = FxRates(
    rates={
        "EUR/GBP": ((date(2026, 10, 1), Decimal("0.8700")), (date(2026, 10, 15), Decimal("0.8800")))
    }
)
COSTS = {"u1": Money.of("80", "GBP"), "u2": Money.of("58", "GBP")}


def project(**changes) -> ProjectBilling:
    values = dict(
        project_id="ws-1",
        name="P-1042 Globex rollout",
        contract_id="ctr_1",
        legal_entity="UK",
        currency="GBP",
        billing_model=BillingModel.TIME_AND_MATERIALS,
        rate_card=CARD,
        tax_code="VAT:S-GB",
    )
    values.update(changes)
    return ProjectBilling(**values)


def time(
    source: str,
    hours: str,
    role: str = "Senior Consultant",
    user: str = "u1",
    day: date = date(2026, 10, 20),
    approved: datetime | None = None,
    **changes,
) -> WorkItem:
    values = dict(
        kind=WorkKind.TIME,
        source_id=source,
        version=1,
        project_id="ws-1",
        consultant_id=user,
        role=role,
        work_date=day,
        hours=Decimal(hours),
        approved=True,
        approved_at=approved or datetime(2026, 10, 21, tzinfo=UTC),
    )
    values.update(changes)
    return WorkItem(**values)


def test_approved_time_is_priced_from_the_rate_card_with_cost_and_tax() -> None:
    #  entry | role              | hours | bill rate | amount   | cost rate | cost
    #  t1    | Senior Consultant | 7.5   | 175.00    | 1312.50  | 80        | 600.00
    #  t2    | Consultant        | 8     | 135.00    | 1080.00  | 58        | 464.00
    priced = price_work(
        [time("t1", "7.5"), time("t2", "8", "Consultant", "u2")], project(), CAL, COSTS, FX
    )
    assert priced.findings == []
    got = [
        (ln.source_id, ln.rate.amount, ln.amount.amount, ln.cost.amount, ln.period, ln.tax_code)
        for ln in priced.lines
    ]
    assert got == [
        ("t1", Decimal("175.00"), Decimal("1312.50"), Decimal("600.00"), "2026-10", "VAT:S-GB"),
        ("t2", Decimal("135.00"), Decimal("1080.00"), Decimal("464.00"), "2026-10", "VAT:S-GB"),
    ]


def test_a_month_of_entries_is_priced_entry_by_entry_whatever_it_repeats() -> None:
    # Values and costs are computed once per (rate, hours) and (consultant, hours) in a run:
    # equal hours on other rates, consultants or cost currencies must still price apart.
    costs = {**COSTS, "u3": Money.of("70", "EUR")}  # a cost rate in another currency
    items = [
        time("a", "7.5"),  # Senior Consultant (175), u1 (80)
        time("b", "7.50", user="u2"),  # same rate and hours written otherwise, u2 (58)
        time("c", "7.5", "Consultant", "u2"),  # 135
        time("d", "7.5", user="u3", day=date(2026, 10, 2)),  # EUR 525 at 0.87 on 2 Oct
        time("e", "7.5", user="u3", day=date(2026, 10, 16)),  # EUR 525 at 0.88 on 16 Oct
    ]
    priced = price_work(items, project(), CAL, costs, FX)
    got = {ln.source_id: (ln.amount.amount, ln.cost.amount) for ln in priced.lines}
    assert got == {
        "a": (Decimal("1312.50"), Decimal("600.00")),
        "b": (Decimal("1312.50"), Decimal("435.00")),
        "c": (Decimal("1012.50"), Decimal("435.00")),
        "d": (Decimal("1312.50"), Decimal("456.75")),
        "e": (Decimal("1312.50"), Decimal("462.00")),
    }


def test_a_project_on_billing_hold_holds_its_time_with_the_value_held() -> None:
    priced = price_work(
        [time("t1", "10"), time("t2", "2")],
        project(on_hold=True, hold_reason="PO expired"),
        CAL,
        COSTS,
        FX,
    )
    assert priced.lines == [] and [i.source_id for i in priced.held] == ["t1", "t2"]
    assert [f.amount.amount for f in priced.findings] == [Decimal("1750.00"), Decimal("350.00")]
    assert "P-1042 Globex rollout on billing hold: PO expired" in priced.findings[0].message


def test_an_entry_on_hold_is_held_and_the_rest_is_billed() -> None:
    priced = price_work([time("t1", "1", on_hold=True), time("t2", "1")], project(), CAL, COSTS, FX)
    assert [ln.source_id for ln in priced.lines] == ["t2"]
    assert [i.source_id for i in priced.held] == ["t1"]


def test_approval_after_the_cutoff_rolls_into_the_next_open_period_with_a_note() -> None:
    late = time("t1", "1", approved=datetime(2026, 11, 3, 18, 0, 1, tzinfo=UTC))
    on_time = time("t2", "1", approved=datetime(2026, 11, 3, 18, 0, tzinfo=UTC))
    priced = price_work([late, on_time], project(), CAL, COSTS, FX)
    assert {ln.source_id: ln.period for ln in priced.lines} == {"t1": "2026-11", "t2": "2026-10"}
    (note,) = priced.findings
    assert note.code == "billing.cutoff_rolled" and not note.blocking
    assert "billed in 2026-11" in note.message


def test_a_closed_period_sends_work_to_the_next_open_one() -> None:
    closed = BillingCalendar(
        periods=(CAL.periods[0].model_copy(update={"closed": True}), CAL.periods[1])
    )
    priced = price_work([time("t1", "1")], project(), closed, COSTS, FX)
    assert priced.lines[0].period == "2026-11"


def test_the_not_to_exceed_cap_splits_the_overage_into_a_non_billable_line() -> None:
    # cap 5,000.00, billed 4,000.00 -> 1,000.00 left; entry 7.5 h x 175 = 1,312.50
    #   billable 1,000.00 (5.71 h), overage 312.50 not billed (1.79 h)
    capped = project(cap=Money.of("5000", "GBP"), billed_to_date=Money.of("4000", "GBP"))
    priced = price_work([time("t1", "7.5"), time("t2", "1")], capped, CAL, COSTS, FX)
    got = [(ln.source_id, ln.part, ln.amount.amount, ln.hours) for ln in priced.lines]
    assert got == [
        ("t1", LinePart.BILLABLE, Decimal("1000.00"), Decimal("5.71")),
        ("t1", LinePart.OVERAGE, Decimal("0"), Decimal("1.79")),
        ("t2", LinePart.OVERAGE, Decimal("0"), Decimal("1")),
    ]
    assert "not-to-exceed cap of GBP 5,000.00: GBP 312.50 not billable" in priced.lines[1].note


def test_bad_entries_become_findings_naming_the_field_and_the_rest_is_billed() -> None:
    items = [
        time("bad-role", "2", role="Astronaut"),
        time("neg", "-1"),
        time("no-cost", "1", user="u9"),
        time("ok", "1"),
    ]
    priced = price_work(items, project(), CAL, COSTS, FX)
    assert [ln.source_id for ln in priced.lines] == ["ok"]
    fields = {f.record: (f.code, f.field) for f in priced.findings}
    assert fields == {
        "time:bad-role": ("rate.missing", "time_entry.role"),
        "time:neg": ("time.hours_invalid", "time_entry.hours"),
        "time:no-cost": ("cost_rate.missing", "time_entry.user"),
    }


def test_foreign_currency_expenses_convert_at_the_rate_dated_on_or_before_the_expense() -> None:
    def expense(source: str, day: date) -> WorkItem:
        return WorkItem(
            kind=WorkKind.EXPENSE,
            source_id=source,
            version=1,
            project_id="ws-1",
            work_date=day,
            amount=Money.of("100.00", "EUR"),
            category="Travel",
            approved=True,
            approved_at=datetime(2026, 10, 30, tzinfo=UTC),
        )

    priced = price_work(
        [
            expense("e1", date(2026, 10, 14)),
            expense("e2", date(2026, 10, 15)),
            expense("e0", date(2026, 12, 5)),
        ],
        project(),
        CAL,
        COSTS,
        FX,
    )
    assert {ln.source_id: ln.amount.amount for ln in priced.lines} == {
        "e1": Decimal("87.00"),
        "e2": Decimal("88.00"),
    }
    assert priced.findings[0].code == "billing.no_open_period"  # December has no period yet


def test_non_billable_time_posts_cost_only() -> None:
    priced = price_work([time("t1", "4", billable=False)], project(), CAL, COSTS, FX)
    (line,) = priced.lines
    assert line.part is LinePart.NON_BILLABLE and line.amount.is_zero()
    assert line.cost == Money.of("320.00", "GBP")


def test_an_expense_before_the_first_fx_rate_is_a_finding_with_its_own_amount() -> None:
    item = WorkItem(
        kind=WorkKind.EXPENSE,
        source_id="e9",
        version=1,
        project_id="ws-1",
        work_date=date(2026, 9, 30),
        amount=Money.of("100.00", "EUR"),
        approved=True,
        approved_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    (finding,) = price_work([item], project(), CAL, COSTS, FX).findings
    assert (finding.code, finding.field, finding.amount) == (
        "fx.rate_missing",
        "expense.amount",
        Money.of("100.00", "EUR"),
    )
