"""The engine builds its results without re-validating them: they must still be what
pydantic would have built, every journal entry is still checked for balance, and the
batch entry point gives the same results as one contract at a time."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from pshub.domain.money import Money
from pshub.domain.revenue import (
    EntryKind,
    RevenueCase,
    RevenueInputError,
    RevenueResult,
    UnbalancedEntryError,
    balances,
    run_contract,
    run_contracts,
)
from pshub.domain.revenue.balances import position
from pshub.domain.revenue.build import MoneyMaker
from pshub.domain.revenue.journals import Journal
from tests.unit.revenue.test_properties import cases

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
amounts = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)

CASE: dict[str, Any] = {
    "currency": "USD",
    "periods": ["M1", "M2", "M3"],
    "contract": {
        "price": "9000",
        "obligations": [
            {"id": "build", "method": "percent_complete", "standalone_price": "6000"},
            {
                "id": "support",
                "method": "straight_line",
                "start": "M1",
                "end": "M3",
                "standalone_price": "3000",
            },
            {"id": "hours", "method": "time_and_materials", "rate": "150"},
        ],
    },
    "activity": [
        {
            "period": "M1",
            "obligation": "build",
            "cost_incurred": "100",
            "estimated_total_cost": "400",
        },
        {"period": "M1", "obligation": "hours", "hours": "2"},
        {"period": "M1", "billed": "1000"},
        {"period": "M2", "collected": "1000"},
        {"period": "M3", "obligation": "build", "cost_incurred": "300"},
    ],
}


def fields_sets(model: BaseModel) -> list[tuple[str, frozenset[str]]]:
    """Every nested model's class and fields set, in order."""
    out = [(type(model).__name__, frozenset(model.__pydantic_fields_set__))]
    for value in model.__dict__.values():
        items = value.values() if isinstance(value, dict) else value
        for item in items if isinstance(items, tuple | list | type({}.values())) else [items]:
            if isinstance(item, BaseModel):
                out.extend(fields_sets(item))
    return out


def run_or_none(data: dict[str, Any]) -> RevenueResult | None:
    try:
        return run_contract(RevenueCase.model_validate(data))
    except RevenueInputError:
        return None


@SETTINGS
@given(cases())
def test_a_result_is_what_pydantic_validation_of_its_own_dump_gives(data: dict[str, Any]) -> None:
    result = run_or_none(data)
    if result is None:
        return
    again = RevenueResult.model_validate(result.model_dump(exclude_unset=True))
    assert again == result
    assert again.model_dump_json() == result.model_dump_json()
    assert fields_sets(again) == fields_sets(result)  # the same fields given, at every level


def test_the_batch_entry_point_gives_the_results_of_one_contract_at_a_time() -> None:
    other = dict(CASE, currency="EUR")
    batch = run_contracts([RevenueCase.model_validate(CASE), RevenueCase.model_validate(other)])
    assert batch == [run_contract(RevenueCase.model_validate(c)) for c in (CASE, other)]
    assert batch[1].periods[0].revenue.currency == "EUR"


def test_equal_amounts_share_one_money_but_zero_and_zero_cents_stay_distinct() -> None:
    make = MoneyMaker("USD")
    assert make(Decimal("12.50")) is make(Decimal("12.50"))
    assert make(Decimal("12.50")) == Money.of("12.50", "USD")
    assert str(make(Decimal("0")).amount) == "0"
    assert str(make(Decimal("0.00")).amount) == "0.00"
    assert make.zero == Money.zero("USD").rounded()


def test_an_entry_whose_debits_and_credits_differ_is_refused() -> None:
    journal = Journal(MoneyMaker("USD"))
    moves = (Decimal("10.00"), Decimal(0), Decimal(0), Decimal(0))
    with pytest.raises(
        UnbalancedEntryError, match=re.escape("debits USD 10.00 != credits USD 0.00")
    ):
        journal.entry("M1", EntryKind.COLLECTION, "cash collected", moves)


def test_an_entry_takes_the_side_of_each_move_and_leaves_out_what_did_not_move() -> None:
    journal = Journal(MoneyMaker("USD"))
    moves = (Decimal(0), Decimal("-250.00"), Decimal("250.00"), Decimal(0))
    entry = journal.entry("M1", EntryKind.REVENUE, "reclass", moves)
    assert entry is not None
    assert [
        (ln.account.value, str(ln.debit.amount), str(ln.credit.amount)) for ln in entry.lines
    ] == [
        ("Receivable", "0.00", "250.00"),
        ("Contract asset", "250.00", "0.00"),
    ]
    assert journal.entry("M1", EntryKind.REVENUE, "nothing", (Decimal(0),) * 4) is None


@SETTINGS
@given(amounts, amounts, amounts)
def test_the_engines_balance_position_follows_the_rules_of_balances(
    revenue: Decimal, billed: Decimal, collected: Decimal
) -> None:
    full = balances(*(Money.of(a, "USD") for a in (revenue, billed, collected)))
    receivable, asset, liability = position(revenue, billed, collected, Decimal("0.00"))
    assert (receivable, asset, liability) == (
        full.receivable.amount,
        full.contract_asset.amount,
        full.contract_liability.amount,
    )
