"""Snapshots are content-addressed and versioned; diffs name what moved and why."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from pshub.domain.forecast import (
    Cause,
    CellKey,
    ForecastInputs,
    ForecastSnapshot,
    Movement,
    diff,
    forecast,
    take_snapshot,
    totals_by_cause,
)
from pshub.domain.sales import BillingModel
from tests.unit.forecast.example import actual, contract, gbp, worked_example

BASE = worked_example()


def snap(inputs: ForecastInputs, as_of: str = "2025-03") -> ForecastSnapshot:
    return take_snapshot(forecast(inputs, as_of, 3))


def changed(**updates: object) -> ForecastInputs:
    return BASE.model_copy(update=updates)


def causes(movements: list[Movement]) -> dict[str, set[Cause]]:
    out: dict[str, set[Cause]] = defaultdict(set)
    for m in movements:
        out[m.source_id].add(m.cause)
    return dict(out)


def test_the_same_inputs_in_another_order_give_the_same_snapshot_id() -> None:
    shuffled = changed(
        contracts=BASE.contracts[::-1],
        opportunities=BASE.opportunities[::-1],
        assignments=BASE.assignments[::-1],
    )
    assert snap(BASE).id == snap(shuffled).id
    assert snap(BASE).id.startswith("fcs_")


def test_a_later_run_is_the_next_version_and_points_at_the_previous_one() -> None:
    first = snap(BASE)
    second = take_snapshot(forecast(BASE, "2025-04", 3), first)
    assert (first.version, first.previous_id) == (1, None)
    assert (second.version, second.previous_id) == (2, first.id)
    assert second.id != first.id


def test_a_snapshot_survives_a_json_round_trip_unchanged() -> None:
    first = snap(BASE)
    again = ForecastSnapshot.model_validate_json(first.model_dump_json())
    assert again == first
    assert take_snapshot(again.data).id == first.id


def test_a_won_opportunity_shows_as_a_new_deal_and_a_closed_opportunity() -> None:
    won = contract("C5", BillingModel.RETAINER, "ADVISORY", "24000", "0", opportunity_id="O1")
    new = changed(contracts=(*BASE.contracts, won), opportunities=BASE.opportunities[1:])
    movements = diff(snap(BASE), snap(new))
    assert causes(movements) == {"C5": {Cause.NEW_DEAL}, "O1": {Cause.OPPORTUNITY_CLOSED}}
    assert {m.detail for m in movements if m.source_id == "O1"} == {"won as C5"}
    # no fee: 24,000 straight-line over the ten months left of the term (March-December)
    assert {m.delta.amount for m in movements if m.source_id == "C5"} == {Decimal("2400.00")}


def test_a_lost_opportunity_takes_its_weighted_amount_out_of_the_pipeline() -> None:
    new = changed(opportunities=(BASE.opportunities[0], BASE.opportunities[2]))
    movements = diff(snap(BASE), snap(new))
    assert causes(movements) == {"O2": {Cause.OPPORTUNITY_CLOSED}}
    assert sum(m.delta.amount for m in movements) == Decimal("-500.00")


def test_a_milestone_moved_beyond_may_is_a_slipped_milestone() -> None:
    c2 = BASE.contracts[1]
    m2 = c2.milestones[2].model_copy(update={"due_date": date(2025, 6, 30)})
    new_c2 = c2.model_copy(update={"milestones": (*c2.milestones[:2], m2)})
    new = changed(contracts=(BASE.contracts[0], new_c2, *BASE.contracts[2:]))
    movements = diff(snap(BASE), snap(new))
    assert [(m.cause, m.source_id, m.month, m.delta.amount, m.detail) for m in movements] == [
        (Cause.SLIPPED_MILESTONE, "M2", "2025-05", Decimal("-12000.00"), "due 2025-05 -> 2025-06")
    ]


def test_a_higher_contract_value_is_a_change_order() -> None:
    c3 = BASE.contracts[2].model_copy(update={"value": gbp("110000")})
    new = changed(contracts=(*BASE.contracts[:2], c3, BASE.contracts[3]))
    movements = diff(snap(BASE), snap(new))
    assert causes(movements) == {"C3": {Cause.CHANGE_ORDER}}
    # 10,000 more backlog over the same increments 15/30/30 of 75: 2,000 / 4,000 / 4,000
    assert [m.delta.amount for m in movements] == [Decimal(2000), Decimal(4000), Decimal(4000)]


def test_more_planned_hours_are_a_re_estimate() -> None:
    a2 = BASE.assignments[1].model_copy(update={"planned_hours": Decimal(90)})
    new = changed(assignments=(BASE.assignments[0], a2, BASE.assignments[2]))
    movements = diff(snap(BASE), snap(new))
    # A2 +600 uses up the cap, so A3 (capped) gives 600 back: both re-estimates
    assert [(m.source_id, m.cause, m.delta.amount) for m in movements] == [
        ("A2", Cause.RE_ESTIMATE, Decimal("600.00")),
        ("A3", Cause.RE_ESTIMATE, Decimal("-600.00")),
    ]


def test_closing_march_lands_actuals_and_the_movements_sum_to_each_cells_change() -> None:
    c1 = BASE.contracts[0].model_copy(update={"recognised_to_date": gbp("44000")})
    new = changed(
        contracts=(c1, *BASE.contracts[1:]),
        actuals=(*BASE.actuals, actual("ACT-4", "ADVISORY", "2025-03", "14000.00")),
    )
    old_snap, new_snap = snap(BASE), snap(new, "2025-04")
    movements = diff(old_snap, new_snap)
    landed = {m.source_id for m in movements if m.cause is Cause.ACTUALS_LANDED}
    assert {"ACT-4", "A1", "M1", "C3", "C4", "O2"} <= landed
    assert all(m.cause is Cause.ACTUALS_LANDED for m in movements if m.month == "2025-03")
    # June enters the window: C3's plan ends in May; O2's start has passed, so its three
    # months roll forward to April-June
    assert {m.source_id for m in movements if m.month == "2025-06"} == {"C4", "O1", "O2"}
    assert all(m.cause is Cause.HORIZON_EXTENDED for m in movements if m.month == "2025-06")
    before = {c.key: c.amount.amount for c in old_snap.data.cells}
    after = {c.key: c.amount.amount for c in new_snap.data.cells}
    moved: dict[CellKey, Decimal] = {key: Decimal(0) for key in before.keys() | after.keys()}
    for m in movements:
        key = CellKey(m.legal_entity, m.service_line, m.before.currency, m.month, m.category)
        moved[key] += m.delta.amount
    for key, delta in moved.items():
        assert delta == after.get(key, Decimal(0)) - before.get(key, Decimal(0)), key
    totals = totals_by_cause(movements)
    assert totals[(Cause.ACTUALS_LANDED, "GBP")].amount == sum(
        m.delta.amount for m in movements if m.cause is Cause.ACTUALS_LANDED
    )
