"""Money: Decimal with a currency, minor-unit rounding, largest-remainder allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pshub.domain.money import Money, MoneyError, allocate, money, total


def test_money_refuses_floats_and_bad_currencies() -> None:
    with pytest.raises(MoneyError, match="float"):
        Money.of(0.1, "USD")
    with pytest.raises(MoneyError, match="ISO 4217"):
        Money.of("1", "usd")
    with pytest.raises(MoneyError, match="not a number"):
        Money.of("ten", "USD")


def test_amounts_round_half_up_to_the_currency_minor_unit() -> None:
    assert money("10.005", "USD").rounded().amount == Decimal("10.01")
    assert money("1234.5", "JPY").rounded().amount == Decimal("1235")
    assert money("1.0005", "BHD").rounded().amount == Decimal("1.001")


def test_arithmetic_across_currencies_is_refused() -> None:
    with pytest.raises(MoneyError, match="currency mismatch"):
        _ = money("1", "USD") + money("1", "GBP")


def test_one_hundred_split_three_ways_sums_back_to_one_hundred() -> None:
    parts = allocate(money("100", "USD"), [1, 1, 1])
    assert [p.amount for p in parts] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert total(parts, "USD") == money("100.00", "USD")


def test_hordak_style_ratio_split_gives_the_remainder_to_the_largest_fraction() -> None:
    # 0.05 split 1:1:3 -> exact 0.01, 0.01, 0.03 ; 10.00 split 1:2 -> 3.33 / 6.67
    assert [p.amount for p in allocate(money("0.05", "USD"), [1, 1, 3])] == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.03"),
    ]
    assert [p.amount for p in allocate(money("10", "USD"), [1, 2])] == [
        Decimal("3.33"),
        Decimal("6.67"),
    ]


@given(
    cents=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_allocation_always_sums_to_the_whole(cents: int, weights: list[int]) -> None:
    whole = Money.of(Decimal(cents) / 100, "USD")
    parts = allocate(whole, weights)
    assert total(parts, "USD") == whole.rounded()
    assert all(p.amount == p.rounded().amount for p in parts)
    for part, weight in zip(parts, weights, strict=True):
        exact = whole.amount * weight / sum(weights)
        assert abs(part.amount - exact) < Decimal("0.01")
