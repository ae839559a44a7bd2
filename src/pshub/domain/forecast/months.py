"""Months are ``YYYY-MM`` strings at the edges and plain integers inside the model.

A month index is ``year * 12 + (month - 1)``: consecutive months differ by one, so
spreading, horizons and "N months before" are integer arithmetic in the hot loops.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthError(ValueError):
    """A month that is not ``YYYY-MM``."""


def check_month(value: str) -> str:
    """Validate a ``YYYY-MM`` month string and return it unchanged."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise MonthError(f"month: {value!r} is not YYYY-MM")
    return value


Month = Annotated[str, AfterValidator(check_month)]
"""A calendar month as ``YYYY-MM`` (ISO 8601 reduced precision)."""


@lru_cache(maxsize=4096)  # a run meets a few dozen distinct months, hundreds of thousands of times
def month_index(month: str) -> int:
    """``"2025-03"`` -> integer index (consecutive months differ by one)."""
    check_month(month)
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_label(index: int) -> str:
    """Integer index -> ``YYYY-MM``."""
    year, month0 = divmod(index, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def month_of(day: date) -> int:
    """The month index of a calendar date."""
    return day.year * 12 + day.month - 1


def add_months(month: str, count: int) -> str:
    """``month`` shifted by ``count`` months (negative goes back)."""
    return month_label(month_index(month) + count)
