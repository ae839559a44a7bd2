"""The NetSuite account budget: a counting gate, and shared with posting processes.

Posting processes (decision 0012) take their slots from one process-shared semaphore per
account: the hub's own budget is moved onto it (with the slots it holds at that moment), and a
posting process adopts it before it builds its connector.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest

from pshub.connectors.netsuite import budget as budget_module
from pshub.connectors.netsuite.budget import (
    BudgetExhausted,
    ConcurrencyBudget,
    adopt_shared,
    budget_for,
    share_budgets,
)


@pytest.fixture(autouse=True)
def fresh_budgets():
    saved = dict(budget_module._BUDGETS)
    budget_module._BUDGETS.clear()
    yield
    budget_module._BUDGETS.clear()
    budget_module._BUDGETS.update(saved)


def test_a_budget_never_lets_more_requests_in_than_its_limit() -> None:
    budget = ConcurrencyBudget(2)
    with budget.slot(1), budget.slot(1), pytest.raises(BudgetExhausted), budget.slot(0.01):
        pass
    with budget.slot(0.01):
        assert budget.in_flight == 1


def test_a_budget_counts_the_slots_taken_and_how_long_they_were_held() -> None:
    """The drain benchmark's slot hold (taken to released) comes from these counts."""
    import time

    budget = ConcurrencyBudget(2)
    assert budget.usage() == (0, 0.0)
    with budget.slot(1):
        time.sleep(0.05)
    with pytest.raises(BudgetExhausted), budget.slot(1), budget.slot(1), budget.slot(0.01):
        pass  # the third is refused: only the two slots given count
    taken, held = budget.usage()
    assert taken == 3
    assert held >= 0.05


def test_shared_budgets_draw_on_one_semaphore_with_the_slots_held_when_sharing_began() -> None:
    hub = budget_for("acct-1", 3)
    held = hub.slot(1)
    held.__enter__()  # one request in flight while the posting processes start
    shared = share_budgets(threading.BoundedSemaphore)
    semaphore, limit = shared["ACCT-1"]
    assert limit == 3 and hub.shared is semaphore
    adopt_shared(shared)  # as a posting process does (here: the same process)
    worker = budget_for("acct-1", 3)
    # The hub's slot held before sharing, this one and the hub's next: none left.
    with worker.slot(1), hub.slot(1), pytest.raises(BudgetExhausted), worker.slot(0.01):
        pass
    held.__exit__(None, None, None)  # the slot taken before sharing goes back to the semaphore
    with worker.slot(0.01), worker.slot(0.01), hub.slot(0.01):
        assert not semaphore.acquire(timeout=0.01)


def _hold(semaphore: Any, entered: Any, leave: Any) -> None:
    """A posting process holding one of the account's slots until told to let go."""
    adopt_shared({"ACCT-2": (semaphore, 2)})
    with budget_for("acct-2", 2).slot(5):
        entered.release()
        leave.wait(10)


def test_posting_processes_and_the_hub_share_one_limit() -> None:
    context = multiprocessing.get_context("spawn")
    budget_for("acct-2", 2)
    shared = share_budgets(context.BoundedSemaphore)
    semaphore = shared["ACCT-2"][0]
    entered, leave = context.Semaphore(0), context.Event()
    workers = [context.Process(target=_hold, args=(semaphore, entered, leave)) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            assert entered.acquire(timeout=60)
        # The two processes hold the account's two slots.
        with pytest.raises(BudgetExhausted), budget_for("acct-2", 2).slot(0.05):
            pass
    finally:
        leave.set()
        for w in workers:
            w.join(30)
    with budget_for("acct-2", 2).slot(1):
        pass
