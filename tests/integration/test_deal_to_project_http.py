"""deal_to_project end to end over real HTTP: Salesforce (HTTPS) -> hub -> NetSuite + Kantata.

Each test runs on SQLite and PostgreSQL. The Salesforce sandbox notifies the hub with signed
change events exactly as in the demo; the hub's connectors talk to the sandboxes over sockets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pshub.stack import Stack, start_stack
from tests.integration.conftest import api_key, hub_settings_for

ACCOUNT = {"Name": "Globex UK Ltd", "BillingCountry": "GB"}


def deal(account_id: str, **changes: Any) -> dict[str, Any]:
    fields = {
        "Name": "Globex S/4 rollout",
        "AccountId": account_id,
        "StageName": "Negotiation/Review",
        "Probability": 80,
        "Amount": "120000",
        "CurrencyIsoCode": "GBP",
        "CloseDate": "2026-11-20",
        "Legal_Entity__c": "UK",
        "Service_Line__c": "ERP-IMPL",
        "Billing_Model__c": "Fixed Fee Milestone",
        "Start_Date__c": "2026-12-01",
        "End_Date__c": "2027-06-30",
    }
    fields.update(changes)
    return fields


LINES = [
    {
        "Description": "Design sign-off",
        "Quantity": 1,
        "UnitPrice": "40000",
        "ServiceDate": "2027-01-15",
    },
    {"Description": "Go-live", "Quantity": 1, "UnitPrice": "80000", "ServiceDate": "2027-06-15"},
]


@pytest.fixture
def stack(db_url: str, tmp_path: Path) -> Iterator[Stack]:
    settings = hub_settings_for(db_url, tmp_path / "hub", step_retry_seconds=1)
    running = start_stack(settings)
    try:
        yield running
    finally:
        running.stop()


def close_won(stack: Stack, **changes: Any) -> str:
    crm: Any = stack.container.crm
    account_id = crm.create_account(ACCOUNT)
    opp_id = crm.create_opportunity(deal(account_id, **changes), LINES)
    crm.update_opportunity(opp_id, {"StageName": "Closed Won", "Probability": 100})
    return str(opp_id)


def hub(stack: Stack) -> httpx.Client:
    """A client of the hub's API, authenticated with an API key (as an integration would)."""
    return httpx.Client(
        base_url=stack.api.url, timeout=10, headers={"X-API-Key": api_key(stack.container)}
    )


def wait_for_flow(stack: Stack, opp_id: str, status: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    flow: dict[str, Any] = {}
    with hub(stack) as client:
        while time.monotonic() < deadline:
            response = client.get(f"/flows/deal:salesforce:{opp_id}")
            if response.status_code == 200:
                flow = response.json()
                if flow["status"] == status and flow["runs"][-1]["finished_at"]:
                    return flow
            time.sleep(0.2)
    raise AssertionError(f"flow for {opp_id} did not reach {status!r}: {flow.get('status')}")


def records(stack: Stack, vendor: str, collection: str) -> list[dict[str, Any]]:
    with stack.sandboxes.admin(vendor) as admin:
        response = admin.get(f"/_sandbox/records/{collection}")
        response.raise_for_status()
        return list(response.json())


def census(stack: Stack) -> dict[str, int]:
    """How many records the hub created in each target (customers, workspaces, stories, jobs)."""
    return {
        "customers": len(records(stack, "netsuite", "customer")),
        "jobs": len(records(stack, "netsuite", "job")),
        "workspaces": len(records(stack, "kantata", "workspaces")),
        "stories": len(records(stack, "kantata", "stories")),
    }


def test_a_closed_won_event_delivered_five_times_creates_one_customer_project_and_job(
    stack: Stack,
) -> None:
    opp_id = close_won(stack)
    flow = wait_for_flow(stack, opp_id, "completed")
    first = census(stack)
    assert first == {"customers": 1, "jobs": 1, "workspaces": 1, "stories": 8}  # 6 tasks + 2 ms
    with stack.sandboxes.admin("salesforce") as admin:
        (event,) = admin.get("/_sandbox/events").json()
        for _ in range(4):
            replay = event["event"]["event"]["replayId"]  # the stored CDC body
            admin.post(f"/_sandbox/events/{replay}/redeliver").raise_for_status()
    with hub(stack) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            hops = client.get(f"/flows/deal:salesforce:{opp_id}").json()["hops"]
            if sum(h["action"] == "inbox.duplicate" for h in hops) >= 4:
                break
            time.sleep(0.2)
        assert sum(h["action"] == "inbox.duplicate" for h in hops) >= 4
    assert census(stack) == first
    assert len(flow["runs"]) == 1
    # The ids were written back to the opportunity in Salesforce.
    opp = stack.container.crm.query(  # type: ignore[attr-defined]
        f"SELECT PSA_Project_Id__c, ERP_Job_Id__c, ERP_Customer_Id__c, Provisioning_Status__c "
        f"FROM Opportunity WHERE Id = '{opp_id}'"
    )[0]
    result = flow["runs"][0]["result"]["system_ids"]
    assert opp["PSA_Project_Id__c"] == result["psa_project_id"]
    assert opp["ERP_Job_Id__c"] == result["erp_job_id"]
    assert opp["Provisioning_Status__c"] == "Provisioned"


@pytest.mark.slow
def test_a_thirty_second_kantata_outage_is_waited_out_and_nothing_is_lost(stack: Stack) -> None:
    with stack.sandboxes.admin("kantata") as admin:
        admin.post("/_sandbox/outage", json={"seconds": 30}).raise_for_status()
    started = time.monotonic()
    opp_id = close_won(stack)
    flow = wait_for_flow(stack, opp_id, "completed", timeout=150)
    assert time.monotonic() - started >= 25
    actions = [h["action"] for h in flow["hops"]]
    assert "flow.waiting" in actions
    assert actions[-1] == "flow.completed"
    assert census(stack) == {"customers": 1, "jobs": 1, "workspaces": 1, "stories": 8}


def test_an_unmapped_entity_is_an_exception_with_the_deal_value_then_retried_after_the_fix(
    stack: Stack,
) -> None:
    opp_id = close_won(stack, Legal_Entity__c="DE", CurrencyIsoCode="EUR")
    flow = wait_for_flow(stack, opp_id, "exception")
    (exc,) = flow["exceptions"]
    assert exc["reason_code"] == "entity.unmapped"
    assert "'DE'" in exc["reason"]
    assert (exc["amount"], exc["currency"]) == ("120000.00", "EUR")
    assert census(stack)["jobs"] == 0
    with hub(stack) as client:
        listed = client.get("/exceptions").json()
        assert [e["id"] for e in listed] == [exc["id"]]
        # Fix the mapping: a DE entity on a new NetSuite subsidiary... that NetSuite lacks, so
        # map DE to the UK subsidiary, which bills in EUR.
        policy = stack.settings.resolved_policy_dir()
        local = stack.settings.data_dir / "policy"
        if policy != local:
            import shutil

            shutil.copytree(policy, local)
        entities = local / "legal_entities.yaml"
        entities.write_text(entities.read_text() + DE_ENTITY)
        retried = client.post(f"/exceptions/{exc['id']}/retry")
        assert retried.status_code == 202
    flow = wait_for_flow(stack, opp_id, "completed")
    assert [e["status"] for e in flow["exceptions"]] == ["resolved"]
    assert census(stack)["jobs"] == 1
    with hub(stack) as client:
        assert client.get("/exceptions").json() == []


DE_ENTITY = """  - code: DE
    name: Northwind Consulting Ltd. (German branch)
    country: DE
    currency: EUR
    erp_subsidiary_id: "2"
    billing_currencies: [EUR]
    tax_profiles:
      - {code: DE-RC-GB, customer_country: GB, rate: "0", erp_tax_code: "VAT:RC-EU"}
"""
