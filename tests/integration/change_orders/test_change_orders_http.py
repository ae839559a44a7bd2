"""Change orders end to end over real HTTP: Salesforce approval -> hub -> Kantata + NetSuite.

Each test runs on SQLite and PostgreSQL. The change order "CO-001" adds "Hypercare"
(GBP 30,000, billed 2027-08-31) to the 120,000 deal, which now ends 2027-08-31:

| version | price   | lines                                  | end date   |
|---------|---------|----------------------------------------|------------|
| 1       | 120,000 | Design sign-off 40,000, Go-live 80,000 | 2027-06-30 |
| 2       | 150,000 | ... and Hypercare 30,000 (added)       | 2027-08-31 |
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from pshub.change_order_demo import (
    approve_change_order,
    approve_change_orders,
    book_order,
    change_orders_applied,
)
from pshub.domain.money import Money
from pshub.flows import ingest, psa_feed
from pshub.flows.change_orders import correlation_id_for
from pshub.store import contract_tables as store
from pshub.store import repos
from tests.integration.change_orders.conftest import Deal, wait_until

HYPERCARE = Decimal(30000)
BILL_DATE = date(2027, 8, 31)


def gbp(amount: int) -> Money:
    return Money.of(amount, "GBP")


def approve(deal: Deal, number: str = "CO-001") -> str:
    approve_change_order(
        deal.stack.container, deal.opportunity, number, amount=HYPERCARE, service_date=BILL_DATE
    )
    return f"salesforce:{deal.opportunity}:{number}"


def sales_orders(deal: Deal) -> list[dict[str, Any]]:
    return deal.records("netsuite", "salesOrder")


def assert_version_two(deal: Deal) -> None:
    v1, v2 = deal.versions()
    assert (v1.version, v1.price, v1.diff) == (1, gbp(120000), None)
    assert (v2.version, v2.price, v2.price_change) == (2, gbp(150000), gbp(30000))
    assert (v2.added_scope, v2.removed_scope) == (gbp(30000), gbp(0))
    assert v2.source_system == "salesforce" and v2.source_id == "CO-001"
    assert v2.diff is not None
    assert [(c.name, c.kind, c.after) for c in v2.diff.lines] == [
        ("Hypercare", "added", gbp(30000))
    ]
    assert [(m.name, m.kind) for m in v2.diff.milestones] == [("Hypercare", "added")]
    assert (v2.diff.end_before, v2.diff.end_after) == (date(2027, 6, 30), BILL_DATE)
    assert v2.diff.budget_change == gbp(30000)


def test_an_approved_change_order_becomes_version_two_in_the_psa_and_the_erp(deal: Deal) -> None:
    book_order(deal.stack.container, deal.contract_id, approved=True)
    deal.settle(approve(deal), "applied")
    assert_version_two(deal)
    (workspace,) = [w for w in deal.records("kantata", "workspaces") if w["id"] == deal.workspace]
    assert int(workspace["price_in_cents"]) == 15_000_000
    assert workspace["due_date"] == BILL_DATE.isoformat()
    milestones = {
        s["title"]: int(s["budget_estimate_in_cents"])
        for s in deal.records("kantata", "stories")
        if s.get("story_type") == "milestone" and str(s["workspace_id"]) == deal.workspace
    }
    assert milestones == {
        "Design sign-off": 4_000_000,
        "Go-live": 8_000_000,
        "Hypercare": 3_000_000,
    }
    (order,) = sales_orders(deal)
    lines = order["item"]["items"]
    assert [(ln["description"], Decimal(str(ln["amount"]))) for ln in lines] == [
        ("Design sign-off", Decimal(40000)),
        ("Go-live", Decimal(80000)),
        ("Hypercare", Decimal(30000)),
    ]
    assert Decimal(str(order["total"])) == Decimal(150000)
    with deal.stack.container.db.session() as s:
        (event,) = store.events_after(s)
        project = repos.get_record(s, "project", deal.project_id)
    assert (event.type, event.version, event.price_change) == ("ContractAmended", 2, gbp(30000))
    assert project is not None and len(project["milestones"]) == 3
    assert change_orders_applied(deal.stack.container) == 1

    # revenue follows: the close's engine re-measures the contract with version 2 as a
    # modification — Hypercare is new, distinct scope at its own price: a separate contract.
    # It is the flow's step after "applied", so it is waited for (on a slow machine it came
    # after the status had been read).
    def remeasured_hops() -> list[Any]:
        with deal.stack.container.db.session() as s:
            trail = repos.audit_trail(s, correlation_id_for(deal.contract_id))
        return [h for h in trail if h.action == "revenue.remeasured"]

    (remeasured,) = wait_until(remeasured_hops, "revenue.remeasured")
    assert remeasured.detail["treatments"] == ["separate_contract"]
    assert remeasured.detail["error"] is None


def test_a_change_while_the_erp_order_awaits_approval_is_applied_after_approval(
    deal: Deal,
) -> None:
    erp_id = book_order(deal.stack.container, deal.contract_id, approved=False)
    key = approve(deal)
    waiting = deal.settle(key, "waiting")
    assert "Pending Approval" in (waiting.reason or "")
    assert [v.version for v in deal.versions()] == [1]  # queued, not failed, not applied
    (order,) = sales_orders(deal)
    assert len(order["item"]["items"]) == 2
    port: Any = deal.stack.container.erp
    port.set_order_status(erp_id, "B")  # finance approves the original order
    deal.settle(key, "applied")
    assert_version_two(deal)
    (order,) = sales_orders(deal)
    assert len(order["item"]["items"]) == 3 and order["orderStatus"] == "B"
    with deal.stack.container.db.session() as s:
        actions = [h.action for h in repos.audit_trail(s, f"contract:{deal.contract_id}")]
    assert actions.index("change.waiting_for_approval") < actions.index("contract.amended")


def test_a_change_order_delivered_five_times_makes_one_version(deal: Deal) -> None:
    key = approve(deal)
    deal.settle(key, "applied")
    with deal.stack.sandboxes.admin("salesforce") as admin:
        events = admin.get("/_sandbox/events").json()
        replay = events[-1]["event"]["event"]["replayId"]
        for _ in range(4):
            admin.post(f"/_sandbox/events/{replay}/redeliver").raise_for_status()

    def delivered() -> bool:
        row = deal.change(key)
        return row is not None and row.deliveries == 5 and _duplicates(deal) == 4

    wait_until(delivered, "four redeliveries")
    assert [v.version for v in deal.versions()] == [1, 2]
    assert [r.change_key for r in deal.changes()] == [key]
    assert len(sales_orders(deal)) == 1
    assert change_orders_applied(deal.stack.container) == 1


def _duplicates(deal: Deal) -> int:
    with deal.stack.container.db.session() as s:
        hops = repos.audit_trail(s, f"contract:{deal.contract_id}")
        return sum(h.action == "inbox.duplicate" for h in hops)


def test_a_kantata_outage_and_netsuite_rate_limit_during_the_push_are_waited_out(
    deal: Deal,
) -> None:
    with deal.stack.sandboxes.admin("kantata") as admin:
        admin.post("/_sandbox/outage", json={"seconds": 3}).raise_for_status()
    with deal.stack.sandboxes.admin("netsuite") as admin:
        faults = admin.get("/_sandbox/faults").json()
        faults.update(rate_limit_per_second=2, rate_limit_burst=1)
        admin.put("/_sandbox/faults", json=faults).raise_for_status()
    key = approve(deal)
    deal.settle(key, "applied", timeout=90)
    assert_version_two(deal)
    with deal.stack.container.db.session() as s:
        actions = [h.action for h in repos.audit_trail(s, f"contract:{deal.contract_id}")]
    assert "flow.waiting" in actions
    assert actions.index("flow.waiting") < actions.index("contract.amended")
    with deal.stack.sandboxes.admin("netsuite") as admin:
        served = admin.get("/_sandbox/stats").json()["faults_served"]
    assert served.get("rate_limit", 0) > 0  # the ERP answered 429 and the push honoured it
    assert len(sales_orders(deal)) == 1


def test_a_kantata_budget_change_becomes_a_version_with_the_budget_diff(deal: Deal) -> None:
    settings = deal.stack.container.settings
    with httpx.Client(
        base_url=f"{settings.kantata_url}/api/v1",
        headers={"Authorization": f"Bearer {settings.kantata_token}"},
        timeout=10,
    ) as pm:  # the project manager raises the budget in Kantata
        pm.put(
            f"/workspaces/{deal.workspace}.json", json={"workspace": {"price": 130000}}
        ).raise_for_status()
    result = psa_feed.poll(deal.stack.container)
    assert result.change_orders == 1
    (row,) = deal.changes()
    deal.settle(row.change_key, "applied")
    _, v2 = deal.versions()
    assert v2.diff is not None and v2.source_system == "kantata"
    assert (v2.diff.budget_before, v2.diff.budget_after) == (gbp(120000), gbp(130000))
    assert v2.price_change == gbp(0) and v2.diff.lines == ()
    psa_feed.poll(deal.stack.container)  # the echo of the hub's own push is not a change
    assert len(deal.changes()) == 1


def test_a_change_whose_lines_miss_the_price_is_rejected_then_applied_after_the_fix(
    deal: Deal,
) -> None:
    c = deal.stack.container
    crm: Any = c.crm
    crm.update_opportunity(
        deal.opportunity,
        {
            "Amount": "150000",
            "Change_Order_Number__c": "CO-002",
            "Change_Order_Status__c": "Approved",
        },
    )
    key = f"salesforce:{deal.opportunity}:CO-002"
    rejected = deal.settle(key, "rejected")
    assert "lines:" in (rejected.reason or "")
    with c.db.session() as s:
        (exc,) = repos.list_exceptions(s, flow="change_orders")
        exc_id, code = exc.id, exc.reason_code
    assert code == "change.lines_total"
    assert [v.version for v in deal.versions()] == [1]
    crm.add_opportunity_line(
        deal.opportunity,
        {
            "Description": "Hypercare",
            "Quantity": 1,
            "UnitPrice": "30000",
            "ServiceDate": "2027-08-31",
        },
    )
    started = ingest.retry_exception(c, exc_id)
    assert started["workflow_id"].endswith(":v2:a2")
    deal.settle(key, "applied")
    assert [v.version for v in deal.versions()] == [1, 2]
    with c.db.session() as s:
        assert repos.list_exceptions(s, flow="change_orders") == []


def test_the_demo_approves_a_change_order_on_each_provisioned_milestone_deal(deal: Deal) -> None:
    c = deal.stack.container
    assert approve_change_orders(c, count=2) == [deal.opportunity]
    deal.settle(f"salesforce:{deal.opportunity}:CO-001", "applied")
    assert change_orders_applied(c) == 1
    assert approve_change_orders(c, count=2) == []  # one change order per deal
