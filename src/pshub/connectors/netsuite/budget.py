"""A process-wide concurrency budget per NetSuite account.

NetSuite governs concurrency per account: every integration and flow in the account shares
one limit. All connectors for the same account in this process draw from one budget, so the
process never sends more requests at once than the budget allows. When connectors ask for
different sizes, the smallest wins (never exceed anybody's stated limit).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExhausted(Exception):
    """No slot became free within the wait."""


class ConcurrencyBudget:
    """A counting gate whose limit can only shrink."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("max_concurrency: must be at least 1")
        self._limit = limit
        self._in_flight = 0
        self.peak = 0
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def shrink_to(self, limit: int) -> None:
        with self._cond:
            self._limit = min(self._limit, limit)

    @contextmanager
    def slot(self, wait: float) -> Iterator[None]:
        """Hold one of the account's request slots for the duration of the block."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._in_flight < self._limit, timeout=wait):
                raise BudgetExhausted(f"no request slot free within {wait:.0f}s")
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()


_BUDGETS: dict[str, ConcurrencyBudget] = {}
_LOCK = threading.Lock()


def budget_for(account_id: str, limit: int) -> ConcurrencyBudget:
    """The shared budget of ``account_id`` (created on first use, shrunk to ``limit``)."""
    key = account_id.upper()
    with _LOCK:
        budget = _BUDGETS.get(key)
        if budget is None:
            budget = _BUDGETS[key] = ConcurrencyBudget(limit)
        else:
            budget.shrink_to(limit)
        return budget
