"""sObject rows through the unmodified simple-salesforce client: create, read, update, upsert."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import cast

import pytest
from simple_salesforce.api import Salesforce, SFType

from pshub.sandboxes.salesforce.schema import id18

from .support import Sandbox


def obj(client: Salesforce, name: str) -> SFType:
    """``client.<name>``, typed: simple-salesforce builds sObject handles dynamically."""
    return cast(SFType, getattr(client, name))


@pytest.fixture
def sf(sandbox: Sandbox) -> Iterator[Salesforce]:
    session = sandbox.raw_session()
    client = Salesforce(
        instance_url=sandbox.url,
        session_id=sandbox.token(),
        session=session,
        version="59.0",
        parse_float=Decimal,
    )
    yield client
    session.close()


def test_a_created_account_has_an_18_character_id_with_the_account_prefix(
    sf: Salesforce,
) -> None:
    created = obj(sf, "Account").create({"Name": "Acme Holdings", "BillingCountry": "GB"})

    assert created["success"] is True
    assert created["errors"] == []
    assert created["id"].startswith("001")
    assert len(created["id"]) == 18
    assert id18(created["id"][:15]) == created["id"]


def test_a_record_can_be_read_back_by_its_15_character_id(sf: Salesforce) -> None:
    created = obj(sf, "Account").create({"Name": "Acme Holdings"})

    record = obj(sf, "Account").get(created["id"][:15])

    assert record["Id"] == created["id"]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{created['id']}",
    }


def test_an_update_answers_204_and_changes_the_record(sf: Salesforce) -> None:
    account = obj(sf, "Account").create({"Name": "Acme"})["id"]
    opp = obj(sf, "Opportunity").create(
        {
            "Name": "Deal",
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2025-03-31",
            "Amount": "125000.50",
            "CurrencyIsoCode": "EUR",
        }
    )["id"]

    status = obj(sf, "Opportunity").update(opp, {"StageName": "Negotiation/Review"})

    record = obj(sf, "Opportunity").get(opp)
    assert status == 204
    assert opp.startswith("006")
    assert record["StageName"] == "Negotiation/Review"
    assert record["Probability"] == 90  # the stage's default probability, as Salesforce sets it


def test_upsert_by_external_id_inserts_then_updates_without_a_duplicate(sf: Salesforce) -> None:
    first = obj(sf, "Account").upsert(
        "PSHub_Id__c/PSHUB-acc_1", {"Name": "Globex"}, raw_response=True
    )
    second = obj(sf, "Account").upsert(
        "PSHub_Id__c/PSHUB-acc_1", {"Name": "Globex Corp"}, raw_response=True
    )

    assert first.status_code == 201
    assert first.json()["created"] is True
    assert second.status_code == 200
    assert second.json() == {
        "id": first.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    found = sf.query("SELECT Id, Name FROM Account WHERE PSHub_Id__c = 'PSHUB-acc_1'")
    assert found["totalSize"] == 1
    assert found["records"][0]["Name"] == "Globex Corp"


def test_before_api_46_an_upsert_that_updates_answers_204(sandbox: Sandbox) -> None:
    session = sandbox.raw_session()
    old = Salesforce(
        instance_url=sandbox.url, session_id=sandbox.token(), session=session, version="45.0"
    )
    try:
        obj(old, "Account").upsert("PSHub_Id__c/X-1", {"Name": "Initech"})
        status = obj(old, "Account").upsert("PSHub_Id__c/X-1", {"Name": "Initech Ltd"})
    finally:
        session.close()
    assert status == 204


def test_a_deleted_record_answers_entity_is_deleted(sf: Salesforce, sandbox: Sandbox) -> None:
    account = obj(sf, "Account").create({"Name": "Short-lived"})["id"]
    obj(sf, "Account").delete(account)

    answer = sandbox.http.get(
        f"/services/data/v59.0/sobjects/Account/{account}",
        headers={"Authorization": f"Bearer {sandbox.token()}"},
    )

    assert answer.status_code == 404
    assert answer.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_line_items_compute_their_total_from_quantity_and_unit_price(sf: Salesforce) -> None:
    opp = obj(sf, "Opportunity").create(
        {
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2025-03-31",
            "CurrencyIsoCode": "GBP",
        }
    )["id"]

    line = obj(sf, "OpportunityLineItem").create(
        {"OpportunityId": opp, "Description": "Discovery", "Quantity": 3, "UnitPrice": "1000.10"}
    )["id"]

    # SFType.get parses JSON numbers as float; query honours parse_float=Decimal.
    (record,) = sf.query(
        f"SELECT TotalPrice, CurrencyIsoCode FROM OpportunityLineItem WHERE Id = '{line}'"
    )["records"]
    assert line.startswith("00k")
    assert record["TotalPrice"] == Decimal("3000.30")
    assert record["CurrencyIsoCode"] == "GBP"
