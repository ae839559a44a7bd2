"""Engine behaviour on small cases whose figures are derived in each test's table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pshub.domain.money import Money
from pshub.domain.revenue import RevenueInputError, Treatment
from tests.unit.revenue.helpers import run


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def test_time_and_materials_revenue_is_hours_times_rate_as_worked() -> None:
    """| period | hours | rate | revenue |  (right-to-invoice expedient, ASC 606-10-55-18)
    |--------|-------|------|---------|
    | M1     | 120   | 150  | 18,000  |
    | M2     | 10.5  | 150  | 1,575   |"""
    result = run(
        {
            "currency": "USD",
            "periods": ["M1", "M2"],
            "contract": {
                "price": "0",
                "obligations": [{"id": "hours", "method": "time_and_materials", "rate": "150"}],
            },
            "activity": [
                {"period": "M1", "obligation": "hours", "hours": "120"},
                {"period": "M2", "obligation": "hours", "hours": "10.5"},
            ],
        }
    )
    assert [p.revenue for p in result.periods] == [usd("18000.00"), usd("1575.00")]
    assert result.period("M2").transaction_price == usd("19575.00")


def test_a_retainer_is_recognised_straight_line_and_the_cents_sum_back() -> None:
    """1,000.00 over three months (derived): 333.33, 333.34, 333.33 (cumulative rounding)."""
    result = run(
        {
            "currency": "USD",
            "periods": ["M1", "M2", "M3"],
            "contract": {
                "price": "1000",
                "obligations": [
                    {"id": "retainer", "method": "straight_line", "start": "M1", "end": "M3"}
                ],
            },
        }
    )
    assert [str(p.revenue.amount) for p in result.periods] == ["333.33", "333.34", "333.33"]
    assert result.periods[-1].cumulative_revenue == usd("1000.00")


def test_the_residual_approach_gives_the_unpriced_obligation_what_remains() -> None:
    """| obligation | standalone | allocated (derived) |
    |------------|------------|---------------------|
    | licence    | -          | 30 (residual)       |
    | setup      | 40         | 40                  |
    | support    | 60         | 60                  |  price 130"""
    result = run(
        {
            "currency": "USD",
            "periods": ["P"],
            "contract": {
                "price": "130",
                "obligations": [
                    {"id": "licence", "method": "point_in_time"},
                    {"id": "setup", "method": "point_in_time", "standalone_price": "40"},
                    {"id": "support", "method": "point_in_time", "standalone_price": "60"},
                ],
            },
        }
    )
    assert [(a.obligation, str(a.allocated.amount), a.basis.value) for a in result.allocation] == [
        ("licence", "30.00", "residual"),
        ("setup", "40.00", "at_standalone_price"),
        ("support", "60.00", "at_standalone_price"),
    ]


def test_a_discount_can_be_allocated_to_some_obligations_only() -> None:
    """| obligation | standalone | allocated (derived)               |
    |------------|------------|-----------------------------------|
    | a          | 40         | 40 (outside the discount)         |
    | b          | 55         | 60 x 55/100 = 33                  |
    | c          | 45         | 60 x 45/100 = 27                  |  price 100, discount_to b, c"""
    result = run(
        {
            "currency": "USD",
            "periods": ["P"],
            "contract": {
                "price": "100",
                "discount_to": ["b", "c"],
                "obligations": [
                    {"id": "a", "method": "point_in_time", "standalone_price": "40"},
                    {"id": "b", "method": "point_in_time", "standalone_price": "55"},
                    {"id": "c", "method": "point_in_time", "standalone_price": "45"},
                ],
            },
        }
    )
    assert [str(a.allocated.amount) for a in result.allocation] == ["40.00", "33.00", "27.00"]


def test_excluded_costs_do_not_count_as_progress() -> None:
    """price 1,000,000; estimate 800,000; incurred 220,000 of which 20,000 wasted (derived):
    progress 200,000 / 800,000 = 25 % -> revenue 250,000."""
    result = run(
        {
            "currency": "USD",
            "periods": ["Y1"],
            "contract": {
                "price": "1000000",
                "obligations": [{"id": "build", "method": "percent_complete"}],
            },
            "activity": [
                {
                    "period": "Y1",
                    "obligation": "build",
                    "cost_incurred": "220000",
                    "excluded_cost": "20000",
                    "estimated_total_cost": "800000",
                }
            ],
        }
    )
    assert result.period("Y1").revenue == usd("250000.00")


BUILD: dict[str, Any] = {
    "currency": "USD",
    "periods": ["Y1", "Y2"],
    "contract": {
        "price": "1000000",
        "obligations": [{"id": "build", "method": "percent_complete"}],
    },
}


def test_rounding_percent_complete_is_a_policy_choice() -> None:
    """Costs 420,000 of an estimate of 820,000 (derived): progress 0.51219.., so revenue
    on 1,000,000 is 512,195.12 unrounded and 512,000.00 with progress rounded to 3 places."""
    activity = [
        {
            "period": "Y1",
            "obligation": "build",
            "cost_incurred": "420000",
            "estimated_total_cost": "820000",
        }
    ]
    unrounded = run(BUILD | {"activity": activity})
    rounded = run(BUILD | {"activity": activity, "policy": {"progress_decimals": 3}})
    assert unrounded.period("Y1").revenue == usd("512195.12")
    assert rounded.period("Y1").revenue == usd("512000.00")


def test_a_price_change_on_a_non_distinct_remainder_is_a_cumulative_catch_up() -> None:
    """| period | fact                                   | cumulative revenue (derived) |
    |--------|----------------------------------------|------------------------------|
    | Y1     | 600,000 of 1,000,000 cost: 60 %        | 600,000 of 1,000,000         |
    | Y2     | +200,000 price, not distinct; no costs | 60 % of 1,200,000 = 720,000  |"""
    result = run(
        BUILD
        | {
            "activity": [
                {
                    "period": "Y1",
                    "obligation": "build",
                    "cost_incurred": "600000",
                    "estimated_total_cost": "1000000",
                },
                {"period": "Y2", "modification": {"price_change": "200000", "distinct": False}},
            ]
        }
    )
    assert result.period("Y1").revenue == usd("600000.00")
    assert result.period("Y2").revenue == usd("120000.00")
    assert result.period("Y2").modifications[0].treatment is Treatment.CUMULATIVE_CATCH_UP


def test_a_prospective_modification_spreads_what_remains_over_the_new_service_period() -> None:
    """Support 300,000 over Y1-Y3; at the start of Y3 the price rises by 180,000 and the
    service is extended to Y6, not at standalone price (derived):
    remaining = 100,000 + 180,000 = 280,000 over Y3-Y6 = 70,000 a year."""
    result = run(
        {
            "currency": "USD",
            "periods": ["Y1", "Y2", "Y3", "Y4", "Y5", "Y6"],
            "contract": {
                "price": "300000",
                "obligations": [
                    {"id": "support", "method": "straight_line", "start": "Y1", "end": "Y3"}
                ],
            },
            "activity": [
                {
                    "period": "Y3",
                    "modification": {
                        "price_change": "180000",
                        "extend": {"support": "Y6"},
                        "distinct": True,
                        "at_standalone_price": False,
                    },
                }
            ],
        }
    )
    assert [str(p.revenue.amount) for p in result.periods] == [
        "100000.00",
        "100000.00",
        "70000.00",
        "70000.00",
        "70000.00",
        "70000.00",
    ]
    assert result.period("Y3").modifications[0].treatment is Treatment.PROSPECTIVE


def test_a_forced_treatment_overrides_the_facts() -> None:
    result = run(
        BUILD
        | {
            "activity": [
                {"period": "Y2", "modification": {"price_change": "10", "treatment": "prospective"}}
            ]
        }
    )
    (decision,) = result.period("Y2").modifications
    assert decision.forced and decision.treatment is Treatment.PROSPECTIVE


def test_variable_consideration_above_the_constraint_is_held_back_with_a_finding() -> None:
    """Most likely amount 200,000 bonus, constraint 0 (not highly probable): price 1,000,000."""
    result = run(
        BUILD
        | {
            "contract": BUILD["contract"]
            | {
                "variable": {
                    "method": "most_likely",
                    "outcomes": [
                        {"amount": "200000", "probability": "0.7"},
                        {"amount": "0", "probability": "0.3"},
                    ],
                    "constraint": "0",
                }
            }
        }
    )
    assert result.transaction_price == usd("1000000.00")
    assert result.variable_constrained == usd("200000.00")
    assert result.findings[0].code == "variable_constrained"


def test_a_re_estimated_bonus_is_caught_up_on_progress_to_date() -> None:
    """60 % complete in Y1 on 1,000,000; in Y2 the 200,000 bonus becomes unconstrained
    (derived): cumulative 60 % x 1,200,000 = 720,000, so Y2 revenue 120,000."""
    result = run(
        BUILD
        | {
            "activity": [
                {
                    "period": "Y1",
                    "obligation": "build",
                    "cost_incurred": "600000",
                    "estimated_total_cost": "1000000",
                },
                {
                    "period": "Y2",
                    "variable": {
                        "method": "most_likely_amount",
                        "outcomes": [{"amount": "200000", "probability": "1"}],
                    },
                },
            ]
        }
    )
    assert result.period("Y2").revenue == usd("120000.00")


@pytest.mark.parametrize(
    ("activity", "field"),
    [
        ([{"period": "Y9", "billed": "1"}], "activity[0].period"),
        ([{"period": "Y1", "obligation": "nope", "hours": "1"}], "activity[0].obligation"),
        ([{"period": "Y1", "obligation": "build", "hours": "1"}], "activity[0].obligation"),
        ([{"period": "Y1", "billed": "1.001"}], "activity[0].billed"),
        ([{"period": "Y2", "billed": "1"}, {"period": "Y1", "billed": "1"}], "activity[1].period"),
        (
            [{"period": "Y1", "modification": {"price_change": "5"}}],
            "activity[0].modification.distinct",
        ),
        (
            [{"period": "Y1", "obligation": "build", "cost_incurred": "5"}],
            "activity[0].estimated_total_cost",
        ),
    ],
)
def test_bad_activity_is_refused_with_the_field_named(
    activity: list[dict[str, object]], field: str
) -> None:
    with pytest.raises(RevenueInputError) as caught:
        run(BUILD | {"activity": activity})
    assert caught.value.field == field


def test_two_obligations_without_standalone_price_cannot_be_allocated() -> None:
    with pytest.raises(RevenueInputError) as caught:
        run(
            {
                "currency": "USD",
                "periods": ["P"],
                "contract": {
                    "price": "10",
                    "obligations": [
                        {"id": "a", "method": "point_in_time"},
                        {"id": "b", "method": "point_in_time"},
                    ],
                },
            }
        )
    assert caught.value.field == "contract.obligations[1].standalone_price"


def test_revenue_entries_credit_revenue_per_obligation() -> None:
    result = run(
        {
            "currency": "USD",
            "periods": ["P"],
            "contract": {
                "price": "100",
                "obligations": [
                    {"id": "a", "method": "point_in_time", "standalone_price": "50"},
                    {"id": "b", "method": "point_in_time", "standalone_price": "50"},
                ],
            },
            "activity": [
                {"period": "P", "obligation": "a", "satisfied": True},
                {"period": "P", "obligation": "b", "satisfied": True},
            ],
        }
    )
    (entry,) = result.period("P").entries
    revenue_lines = [
        (ln.obligation, ln.credit.amount) for ln in entry.lines if ln.account.value == "Revenue"
    ]
    assert revenue_lines == [("a", Decimal("50.00")), ("b", Decimal("50.00"))]
