"""A process-wide concurrency budget per NetSuite account.

NetSuite governs concurrency per account: every integration and flow in the account shares
one limit. All connectors for the same account in this process draw from one budget, so the
process never sends more requests at once than the budget allows. When connectors ask for
different sizes, the smallest wins (never exceed anybody's stated limit).

When the hub bills in posting processes (decision 0012), the budgets become process-shared:
:func:`share_budgets` backs each of this process's budgets by a semaphore of its size, and
each posting process :func:`adopt_shared` them before building its connector, so the hub and
its posting processes together never exceed the account's limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class ProcessSemaphore(Protocol):
    """A semaphore shared between processes (``multiprocessing``'s)."""

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool: ...

    def release(self) -> None: ...


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
        # This process's slots taken so far and the seconds they were held: the mean hold
        # against the vendor's response time is what the hub adds to each request.
        self.taken = 0
        self.held_seconds = 0.0
        self._cond = threading.Condition()
        self._shared: ProcessSemaphore | None = None

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def shrink_to(self, limit: int) -> None:
        with self._cond:
            self._limit = min(self._limit, limit)

    @property
    def shared(self) -> ProcessSemaphore | None:
        return self._shared

    def share(self, semaphore: ProcessSemaphore) -> None:
        """From now on take slots from ``semaphore``, shared with other processes and sized
        to this budget's limit; the slots held now are taken from it too."""
        with self._cond:
            for _ in range(self._in_flight):
                semaphore.acquire()
            self._shared = semaphore

    def usage(self) -> tuple[int, float]:
        """(slots taken, seconds they were held) so far in this process."""
        with self._cond:
            return self.taken, self.held_seconds

    @contextmanager
    def slot(self, wait: float) -> Iterator[None]:
        """Hold one of the account's request slots for the duration of the block."""
        with self._cond:
            shared = self._shared
            if shared is None:  # this process's own count
                if not self._cond.wait_for(lambda: self._in_flight < self._limit, wait):
                    raise BudgetExhausted(f"no request slot free within {wait:.0f}s")
                self._count(1)
        if shared is not None:  # the semaphore shared with posting processes
            if not shared.acquire(timeout=wait):
                raise BudgetExhausted(f"no request slot free within {wait:.0f}s")
            with self._cond:
                self._count(1)
        taken = time.monotonic()
        try:
            yield
        finally:
            held = time.monotonic() - taken
            with self._cond:
                self._count(-1)
                self.taken += 1
                self.held_seconds += held
                self._cond.notify()
                # Shared now, whether it was when the slot was taken or became so since
                # (share() then counted this slot into the semaphore).
                shared = self._shared
            if shared is not None:
                shared.release()

    def _count(self, step: int) -> None:
        self._in_flight += step
        self.peak = max(self.peak, self._in_flight)


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


def share_budgets(make_semaphore: Any) -> dict[str, tuple[Any, int]]:
    """Back every budget of this process by a process-shared semaphore of its size
    (``make_semaphore(limit)``, e.g. a spawn context's ``BoundedSemaphore``); returns them by
    account, for :func:`adopt_shared` in the other processes."""
    shared: dict[str, tuple[Any, int]] = {}
    with _LOCK:
        for account, budget in _BUDGETS.items():
            semaphore = budget.shared or make_semaphore(budget.limit)
            budget.share(semaphore)
            shared[account] = (semaphore, budget.limit)
    return shared


def adopt_shared(shared: dict[str, tuple[Any, int]]) -> None:
    """In a posting process: the accounts' budgets are the hub's shared ones."""
    with _LOCK:
        for account, (semaphore, limit) in shared.items():
            budget = ConcurrencyBudget(limit)
            budget.share(semaphore)
            _BUDGETS[account] = budget
