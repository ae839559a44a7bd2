"""time_to_bill in posting processes (decision 0012), over real HTTP, on SQLite and PostgreSQL.

Two T&M deals are provisioned through deal-to-project; over a thousand approved entries each
(two posting workflows, billing at once) are billed by a hub with two posting processes into a
NetSuite sandbox that allows two concurrent requests. Each process posts several requests at
once, so only a budget shared by the hub and its processes keeps the sandbox from refusing
requests over its limit (without it, this test sees a dozen refusals).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pshub.flows import psa_feed
from pshub.posting_pool import PostingPool
from pshub.stack import Stack, start_stack
from pshub.store import billing as repo
from tests.integration.conftest import hub_settings_for
from tests.integration.test_deal_to_project_http import close_won, wait_for_flow
from tests.integration.test_time_to_bill_http import (
    approve_generated_time,
    bill,
    time_bills,
)

PER_PROJECT = 1100  # over 1,000 entries each: two posting workflows at once
LIMIT = 2


@pytest.fixture
def two_projects(db_url: str, tmp_path: Path) -> Iterator[tuple[Stack, list[str]]]:
    settings = hub_settings_for(
        db_url,
        tmp_path / "hub",
        billing_interval_seconds=0,
        posting_processes=2,
        netsuite_concurrency=LIMIT,
    )
    stack = start_stack(settings)
    try:
        workspaces = []
        for _ in range(2):
            opp = close_won(
                stack, Billing_Model__c="Time & Materials", Rate_Card__c="STD-GBP", Amount="900000"
            )
            flow = wait_for_flow(stack, opp, "completed")
            workspaces.append(flow["runs"][0]["result"]["system_ids"]["psa_project_id"])
        with stack.sandboxes.admin("netsuite") as admin:
            faults = admin.get("/_sandbox/faults").json()
            limited = {**faults, "concurrency_limit": LIMIT, "latency_ms": 20}
            admin.put("/_sandbox/faults", json=limited).raise_for_status()
        yield stack, workspaces
    finally:
        stack.stop()


def approve_time(stack: Stack, workspaces: list[str], seed: int) -> None:
    approve_generated_time(stack.sandboxes, workspaces, PER_PROJECT * len(workspaces), seed)


def rejections(stack: Stack) -> int:
    with stack.sandboxes.admin("netsuite") as admin:
        stats = admin.get("/_sandbox/stats").json()
    return int(stats["faults_served"].get("concurrency", 0))


def test_posting_processes_bill_every_entry_once_within_the_accounts_shared_limit(
    two_projects,
) -> None:
    stack, workspaces = two_projects
    pool = stack.container.extras["posting_pool"]
    assert isinstance(pool, PostingPool) and pool.processes == 2
    approve_time(stack, workspaces, seed=5)
    result = bill(stack, "r1")
    entries = PER_PROJECT * len(workspaces)
    assert (result["posted"], result["rejected"], result["errors"]) == (entries, 0, 0)
    bills = time_bills(stack)
    assert len(bills) == entries
    assert max(Counter(str(b["externalId"]) for b in bills).values()) == 1
    assert rejections(stack) == 0  # two processes, one account budget of two requests

    for n in range(3):  # the whole feed again: nothing new, nothing billed twice
        with stack.container.db.session() as s:
            repo.set_cursor(s, psa_feed.FEED, None)
        assert psa_feed.poll(stack.container).work_items == 0
        assert bill(stack, f"again{n}")["lines"] == 0
    assert len(time_bills(stack)) == entries
    assert rejections(stack) == 0


def test_a_posting_process_that_dies_is_replaced_and_its_project_billed_once(
    two_projects,
) -> None:
    stack, workspaces = two_projects
    pool: PostingPool = stack.container.extras["posting_pool"]
    approve_time(stack, workspaces[:1], seed=7)
    # A worker killed between runs: the next run finds the pool broken, starts new processes
    # and bills the project there.
    before = pool.pids()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    result = bill(stack, "after-kill")
    assert (result["posted"], result["rejected"]) == (PER_PROJECT, 0)
    bills = time_bills(stack)
    assert len(bills) == PER_PROJECT
    assert max(Counter(str(b["externalId"]) for b in bills).values()) == 1
    assert before[0] not in pool.pids()


def test_a_netsuite_outage_during_a_drain_in_posting_processes_is_waited_out(
    two_projects,
) -> None:
    stack, workspaces = two_projects
    approve_time(stack, workspaces, seed=9)
    # The feed is read first, so the outage starts as the run does: on a slow machine reading
    # 2,200 entries took longer than the outage, and the workers never met it.
    psa_feed.poll(stack.container)
    with stack.sandboxes.admin("netsuite") as admin:  # longer than a step's retries (2 s)
        admin.post("/_sandbox/outage", json={"seconds": 4}).raise_for_status()
    # The workers' transient errors cross back to the hub's step, which waits durably and
    # bills the projects again once NetSuite answers.
    result = bill(stack, "through-outage")
    entries = PER_PROJECT * len(workspaces)
    assert (result["posted"], result["rejected"], result["dead_letters"]) == (entries, 0, 0)
    bills = time_bills(stack)
    assert len(bills) == entries
    assert max(Counter(str(b["externalId"]) for b in bills).values()) == 1
    assert rejections(stack) == 0
    with stack.sandboxes.admin("netsuite") as admin:  # the workers did meet the outage
        assert admin.get("/_sandbox/stats").json()["faults_served"].get("outage", 0) > 0
