"""time_to_bill end to end over real HTTP: Kantata feed -> hub -> NetSuite time bills.

A T&M deal is provisioned through the real deal-to-project flow; time is logged and approved
in the Kantata sandbox; the hub polls the feed and bills into the NetSuite sandbox. Runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pshub.flows import psa_feed, time_to_bill
from pshub.flows.durable import result_of
from pshub.stack import Stack, start_stack
from pshub.store import billing as repo
from tests.integration.conftest import hub_settings_for
from tests.integration.test_deal_to_project_http import close_won, records, wait_for_flow


@pytest.fixture
def billing_stack(db_url: str, tmp_path: Path) -> Iterator[tuple[Stack, str]]:
    settings = hub_settings_for(
        db_url, tmp_path / "hub", step_retry_seconds=1, billing_interval_seconds=0
    )
    stack = start_stack(settings)
    try:
        opp = close_won(
            stack, Billing_Model__c="Time & Materials", Rate_Card__c="STD-GBP", Amount="500000"
        )
        flow = wait_for_flow(stack, opp, "completed")
        workspace = flow["runs"][0]["result"]["system_ids"]["psa_project_id"]
        yield stack, workspace
    finally:
        stack.stop()


def log_time(stack: Stack, workspace: str, n: int, *, prefix: str = "e") -> list[str]:
    psa: Any = stack.container.psa
    users = ("2002", "2003")
    return [
        psa.create_time_entry(
            workspace,
            date(2026, 10, 1 + i % 28),
            60 * (1 + i % 8),
            key=f"{prefix}{i}",
            user_id=users[i % 2],
            billable=True,
        )
        for i in range(n)
    ]


def bill(stack: Stack, run_id: str) -> dict[str, Any]:
    psa_feed.poll(stack.container)
    # The sandbox stamps approvals with the real clock, so the run is "now" too.
    as_of = datetime.now(UTC)
    workflow = time_to_bill.start(time_to_bill.BillingRunInput(run_id=run_id, as_of=as_of))
    return result_of(workflow)


def approve_generated_time(sandboxes: Any, workspaces: list[str], count: int, seed: int) -> None:
    """``count`` time entries generated in the Kantata sandbox over ``workspaces`` (two users,
    October 2026) and approved, in one bulk request."""
    with sandboxes.admin("kantata") as admin:
        admin.post(
            "/_sandbox/bulk/time_entries",
            json={
                "generate": {
                    "count": count,
                    "workspace_ids": workspaces,
                    "user_ids": ["2002", "2003"],
                    "start_date": "2026-10-01",
                    "days": 28,
                    "seed": seed,
                },
                "approve": True,
            },
            timeout=60,
        ).raise_for_status()


def time_bills(stack: Stack) -> list[dict[str, Any]]:
    return records(stack, "netsuite", "timeBill")


def test_approved_time_is_billed_once_and_redelivering_the_feed_changes_nothing(
    billing_stack,
) -> None:
    stack, workspace = billing_stack
    psa: Any = stack.container.psa
    ids = log_time(stack, workspace, 30)
    psa.approve(ids[:24])  # six stay unapproved
    result = bill(stack, "r1")
    assert (result["posted"], result["rejected"]) == (24, 0)
    bills = time_bills(stack)
    assert len(bills) == 24
    hours = sum(Decimal(str(b["hours"])) for b in bills)
    assert hours == sum(Decimal(1 + i % 8) for i in range(24))
    for n in range(5):  # the whole feed again, five times
        with stack.container.db.session() as s:
            repo.set_cursor(s, psa_feed.FEED, None)
        assert psa_feed.poll(stack.container).work_items == 0
        assert bill(stack, f"again{n}")["lines"] == 0
    assert len(time_bills(stack)) == 24
    with stack.sandboxes.admin("netsuite") as admin:
        assert admin.get("/_sandbox/stats").json()["faults_served"].get("concurrency", 0) == 0


def test_an_unapproval_after_posting_zeroes_the_time_bill_and_a_re_approval_bills_again(
    billing_stack,
) -> None:
    stack, workspace = billing_stack
    psa: Any = stack.container.psa
    (entry,) = log_time(stack, workspace, 1, prefix="u")
    psa.approve([entry])
    bill(stack, "r1")
    psa.unapprove([entry], "wrong project")
    assert bill(stack, "r2")["posted"] == 1
    (only,) = time_bills(stack)
    assert Decimal(str(only["hours"])) == 0 and only["isBillable"] is False
    psa.approve([entry])
    bill(stack, "r3")
    live = [b for b in time_bills(stack) if Decimal(str(b["hours"])) > 0]
    assert len(live) == 1  # billed again, once


def test_a_held_project_is_billed_after_the_hold_is_lifted(billing_stack) -> None:
    stack, workspace = billing_stack
    psa: Any = stack.container.psa
    psa.approve(log_time(stack, workspace, 3, prefix="h"))
    with stack.container.db.session() as s:
        repo.set_hold(s, "project", workspace, "customer disputes rates", "finance")
    assert bill(stack, "r1")["held"] == 3
    assert time_bills(stack) == []
    with stack.container.db.session() as s:
        repo.lift_hold(s, "project", workspace, "finance")
    assert bill(stack, "r2")["posted"] == 3
    assert len(time_bills(stack)) == 3
