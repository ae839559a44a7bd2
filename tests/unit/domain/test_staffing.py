"""Spreading a PSA assignment's estimated minutes over the months of its window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pshub.domain.staffing import PlannedWork, days_by_month, minutes_by_month


def _work(minutes: int, start: date, end: date) -> PlannedWork:
    return PlannedWork("a1", "w1", "s1", "2003", minutes, start, end)


def test_days_are_counted_per_calendar_month_inclusive() -> None:
    assert days_by_month(date(2026, 10, 26), date(2027, 1, 29)) == {
        "2026-10": 6,
        "2026-11": 30,
        "2026-12": 31,
        "2027-01": 29,
    }


def test_minutes_follow_calendar_days_and_the_remainder_goes_to_the_largest_fractions() -> None:
    # 10 minutes over 3 + 4 days: 30/7 = 4.29 and 40/7 = 5.71 -> 4 and 6.
    work = _work(10, date(2026, 1, 29), date(2026, 2, 4))
    assert minutes_by_month(work) == {"2026-01": 4, "2026-02": 6}


def test_a_one_day_window_takes_everything() -> None:
    assert minutes_by_month(_work(90, date(2026, 3, 3), date(2026, 3, 3))) == {"2026-03": 90}


def test_a_window_ending_before_it_starts_or_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="ends before"):
        _work(10, date(2026, 3, 3), date(2026, 3, 2))
    with pytest.raises(ValueError, match="estimated_minutes"):
        _work(-1, date(2026, 3, 3), date(2026, 3, 4))


@given(
    minutes=st.integers(min_value=0, max_value=10**7),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    length=st.integers(min_value=0, max_value=900),
)
def test_the_parts_always_sum_back_to_the_estimate(minutes: int, start: date, length: int) -> None:
    parts = minutes_by_month(_work(minutes, start, start + timedelta(days=length)))
    assert sum(parts.values()) == minutes
    assert all(v >= 0 for v in parts.values())
