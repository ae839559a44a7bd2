"""Inputs refuse what the model cannot trust: floats, bad months, mixed currencies, dupes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pshub.domain.forecast import (
    Assignment,
    ForecastInputs,
    add_months,
    forecast,
    month_index,
    month_label,
)
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from tests.unit.forecast.example import assignment, contract, gbp, worked_example


def test_hours_given_as_a_float_are_refused() -> None:
    with pytest.raises(ValidationError, match="float"):
        Assignment(
            id="A",
            contract_id="C",
            consultant=None,
            role="r",
            month="2025-01",
            planned_hours=7.5,
            bill_rate=gbp("1"),
        )


@pytest.mark.parametrize("bad", ["2025-13", "2025-1", "25-01", "2025-01-01"])
def test_a_month_that_is_not_yyyy_mm_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM"):
        assignment("A", None, bad, "1")


def test_month_arithmetic_crosses_year_ends() -> None:
    assert add_months("2025-11", 3) == "2026-02"
    assert add_months("2025-01", -1) == "2024-12"
    assert month_label(month_index("2031-07")) == "2031-07"


def test_a_contract_amount_in_another_currency_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be in GBP"):
        contract("C", BillingModel.RETAINER, "X", "10", "0", retainer_fee=Money.of("1", "USD"))


def test_duplicate_contract_ids_are_refused() -> None:
    c = worked_example().contracts[0]
    with pytest.raises(ValidationError, match="duplicate ids"):
        ForecastInputs(contracts=(c, c))


def test_a_percent_complete_plan_that_goes_backwards_is_refused() -> None:
    with pytest.raises(ValidationError, match="must rise"):
        contract(
            "C",
            BillingModel.PERCENT_COMPLETE,
            "X",
            "10",
            "0",
            percent_complete_plan=[
                {"month": "2025-02", "cumulative_percent": "50"},
                {"month": "2025-03", "cumulative_percent": "40"},
            ],
        )


def test_a_horizon_below_one_month_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        forecast(worked_example(), "2025-03", 0)


def test_an_assignment_on_an_unknown_contract_is_a_finding_not_a_crash() -> None:
    data = forecast(
        ForecastInputs(assignments=(assignment("A9", "x", "2025-03", "10", cid="NOPE"),)),
        "2025-03",
        1,
    )
    assert [f.code for f in data.findings] == ["assignment_unknown_contract"]
    assert data.cells == ()
