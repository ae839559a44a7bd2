"""Property: for any forecast cell, the sum over its lineage equals the cell, to the cent.

Random contracts of every billing model, assignments, capacity, opportunities and actuals
in two currencies; the same holds for revenue-at-risk cells, and no contract is forecast
beyond its remaining value.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pshub.domain.forecast import (
    Actual,
    Assignment,
    AtRiskCell,
    Capacity,
    ContractForecastInput,
    ForecastCell,
    ForecastInputs,
    MilestonePlan,
    OpenOpportunity,
    PercentCompletePoint,
    SourceKind,
    StageProbabilities,
    add_months,
    forecast,
)
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel

CCY = ["GBP", "JPY"]
LINES = ["ADV", "CLD"]
STAGES = {"early": Decimal("12.5"), "late": Decimal("80"), "zero": Decimal(0)}
BASE = "2025-01"

cents = st.integers(min_value=0, max_value=10_000_000)
offsets = st.integers(min_value=-4, max_value=10)


def money(units: int, ccy: str) -> Money:
    return Money.of(Decimal(units) if ccy == "JPY" else Decimal(units) / 100, ccy)


def day(offset: int, dom: int = 1) -> date:
    label = add_months(BASE, offset)
    return date(int(label[:4]), int(label[5:]), dom)


@st.composite
def contracts(draw: st.DrawFn, n: int) -> ContractForecastInput:
    ccy = draw(st.sampled_from(CCY))
    model = draw(st.sampled_from(list(BillingModel)))
    value = draw(cents)
    start = draw(offsets)
    months = draw(st.integers(min_value=1, max_value=14))
    extra: dict[str, Any] = {}
    if model is BillingModel.FIXED_FEE_MILESTONE:
        extra["milestones"] = tuple(
            MilestonePlan(
                id=f"C{n}-M{k}",
                due_date=day(draw(offsets), draw(st.integers(1, 28))),
                amount=money(draw(cents), ccy),
                recognised=draw(st.booleans()),
            )
            for k in range(draw(st.integers(0, 4)))
        )
    elif model is BillingModel.PERCENT_COMPLETE:
        points = sorted(draw(st.lists(st.integers(0, 100), min_size=0, max_size=6)))
        extra["percent_complete_plan"] = tuple(
            PercentCompletePoint(month=add_months(BASE, start + k), cumulative_percent=p)
            for k, p in enumerate(points)
        )
    elif model is BillingModel.RETAINER and draw(st.booleans()):
        extra["retainer_fee"] = money(draw(cents), ccy)
        extra["retainer_period_months"] = draw(st.sampled_from([1, 3, 12]))
    return ContractForecastInput(
        id=f"C{n}",
        billing_model=model,
        currency=ccy,
        legal_entity=draw(st.sampled_from(["UK", "US"])),
        service_line=draw(st.sampled_from(LINES)),
        value=money(value, ccy),
        recognised_to_date=money(draw(st.integers(0, value + 1000)), ccy),
        start_date=day(start),
        end_date=day(start + months - 1, 28),
        **extra,
    )


@st.composite
def inputs(draw: st.DrawFn) -> ForecastInputs:
    cs = [draw(contracts(n)) for n in range(draw(st.integers(0, 6)))]
    assignments = [
        Assignment(
            id=f"A{k}",
            contract_id=c.id,
            consultant=draw(st.sampled_from([None, "ann", "bob"])),
            role=draw(st.sampled_from(["dev", "lead"])),
            month=add_months(BASE, draw(offsets)),
            planned_hours=Decimal(draw(st.integers(0, 4000))) / 10,
            bill_rate=money(draw(st.integers(1, 40_000)), c.currency),
        )
        for k, c in enumerate(draw(st.lists(st.sampled_from(cs), max_size=12)) if cs else [])
    ]
    capacity = [
        Capacity(
            consultant=draw(st.sampled_from([None, "ann", "bob"])),
            role=draw(st.sampled_from(["dev", "lead"])),
            month=add_months(BASE, draw(offsets)),
            available_hours=draw(st.integers(0, 200)),
        )
        for _ in range(draw(st.integers(0, 8)))
    ]
    opportunities = [
        OpenOpportunity(
            id=f"O{k}",
            legal_entity="UK",
            service_line=draw(st.sampled_from(LINES)),
            stage=draw(st.sampled_from([*STAGES, "unknown"])),
            amount=money(draw(cents), draw(st.sampled_from(CCY))),
            expected_start=day(draw(offsets), 15),
            duration_months=draw(st.integers(1, 12)),
        )
        for k in range(draw(st.integers(0, 5)))
    ]
    actuals = [
        Actual(
            id=f"R{k}",
            legal_entity="UK",
            service_line=draw(st.sampled_from(LINES)),
            month=add_months(BASE, draw(st.integers(-3, 2))),
            amount=money(draw(st.integers(-50_000, 50_000)), "GBP"),
            source_ids=("jnl",),
        )
        for k in range(draw(st.integers(0, 4)))
    ]
    return ForecastInputs(
        contracts=tuple(cs),
        assignments=tuple(assignments),
        capacity=tuple(capacity),
        opportunities=tuple(opportunities),
        actuals=tuple(actuals),
        stage_probabilities=StageProbabilities(percent_by_stage=STAGES),
    )


horizons = st.integers(min_value=1, max_value=18)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs(), horizons)
def test_every_cell_equals_the_sum_of_its_lineage_to_the_minor_unit(
    data: ForecastInputs, horizon: int
) -> None:
    result = forecast(data, BASE, horizon)
    assert all(cell.lineage for cell in result.cells), "a cell exists because of its sources"
    cells: list[ForecastCell | AtRiskCell] = [*result.cells, *result.at_risk]
    for cell in cells:  # at-risk cells may be zero (hours only)
        assert sum((e.amount.amount for e in cell.lineage), Decimal(0)) == cell.amount.amount
        assert all(e.amount.currency == cell.amount.currency for e in cell.lineage)
        assert all(e.amount.amount == e.amount.rounded().amount for e in cell.lineage)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs(), horizons)
def test_no_contract_is_forecast_beyond_its_remaining_value(
    data: ForecastInputs, horizon: int
) -> None:
    result = forecast(data, BASE, horizon)
    by_contract: dict[str, Decimal] = defaultdict(Decimal)
    for cell in result.cells:
        for e in cell.lineage:
            if e.source_kind is SourceKind.CONTRACT:
                by_contract[e.source_id] += e.amount.amount
            elif e.source_kind in (SourceKind.MILESTONE, SourceKind.ASSIGNMENT):
                by_contract[e.refs[0]] += e.amount.amount
    for c in data.contracts:
        assert by_contract[c.id] <= c.remaining_value.amount
    months = set(result.months)
    assert all(c.month in months for c in result.cells if c.category.value != "actual"), (
        "forecast cells stay inside the horizon"
    )
