"""The connector as the CRM port: canonical opportunities and provisioning write-back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pshub.connectors.salesforce import SalesforceConnector
from pshub.domain.ids import canonical_id, external_id
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.flows.ports import ProvisioningWriteBack


def _milestone_deal(conn: SalesforceConnector, billing_model: str = "Fixed Fee Milestone") -> str:
    parent = conn.create_account({"Name": "Umbrella Group", "BillingCountry": "GB"})
    account = conn.create_account(
        {"Name": "Umbrella UK", "BillingCountry": "GB", "ParentId": parent}
    )
    return conn.create_opportunity(
        {
            "Name": "Cloud migration",
            "AccountId": account,
            "StageName": "Closed Won",
            "Amount": "100000.10",
            "CurrencyIsoCode": "GBP",
            "CloseDate": "2025-04-30",
            "Legal_Entity__c": "UK01",
            "Service_Line__c": "CLOUD",
            "Billing_Model__c": billing_model,
            "Start_Date__c": "2025-05-01",
            "End_Date__c": "2025-10-31",
        },
        [
            {
                "Description": "Design",
                "Quantity": 1,
                "UnitPrice": "40000.05",
                "ServiceDate": "2025-06-30",
            },
            {
                "Description": "Build",
                "Quantity": 1,
                "UnitPrice": "60000.05",
                "ServiceDate": "2025-09-30",
            },
        ],
    )


def test_get_opportunity_maps_to_the_canonical_model_with_decimal_money(
    connector: SalesforceConnector,
) -> None:
    opp_id = _milestone_deal(connector)

    opp = connector.get_opportunity(opp_id[:15])

    assert opp.id == canonical_id("opportunity", "salesforce", opp_id)
    assert opp.source_id == opp_id
    assert opp.amount == Money.of("100000.10", "GBP")
    assert isinstance(opp.amount.amount, Decimal)
    assert opp.stage == "Closed Won"
    assert opp.probability == Decimal(100)
    assert opp.billing_model is BillingModel.FIXED_FEE_MILESTONE
    assert (opp.legal_entity, opp.service_line) == ("UK01", "CLOUD")
    assert (opp.close_date, opp.start_date) == (date(2025, 4, 30), date(2025, 5, 1))
    assert opp.account.name == "Umbrella UK"
    assert opp.account.billing_country == "GB"
    assert opp.account.parent_source_id is not None
    assert opp.account.id == canonical_id("account", "salesforce", opp.account.source_id)
    assert [line.name for line in opp.lines] == ["Design", "Build"]
    assert opp.lines[0].total == Money.of("40000.05", "GBP")
    assert opp.lines_total() == opp.amount


def test_an_unknown_billing_model_maps_to_none_instead_of_failing(
    connector: SalesforceConnector,
) -> None:
    opp_id = _milestone_deal(connector, billing_model="Pay What You Want")

    opp = connector.get_opportunity(opp_id)

    assert opp.billing_model is None


def test_write_back_sets_the_provisioning_ids_on_the_opportunity(
    connector: SalesforceConnector,
) -> None:
    opp_id = _milestone_deal(connector)
    ids = ProvisioningWriteBack(
        canonical_contract_id="ctr_1",
        psa_project_id="KAN-77",
        erp_customer_id="1042",
        erp_job_id="2207",
    )

    connector.write_back_provisioning(opp_id, ids)
    connector.write_back_provisioning(opp_id, ids)  # a replay is an update, not an error

    (row,) = connector.query(
        "SELECT PSHub_Id__c, PSHub_Contract_Id__c, PSA_Project_Id__c, ERP_Customer_Id__c, "
        f"ERP_Job_Id__c, Provisioning_Status__c FROM Opportunity WHERE Id = '{opp_id}'"
    )
    assert row == {
        "PSHub_Id__c": external_id(canonical_id("opportunity", "salesforce", opp_id)),
        "PSHub_Contract_Id__c": "ctr_1",
        "PSA_Project_Id__c": "KAN-77",
        "ERP_Customer_Id__c": "1042",
        "ERP_Job_Id__c": "2207",
        "Provisioning_Status__c": "Provisioned",
    }


def test_seeding_with_an_external_id_is_idempotent(connector: SalesforceConnector) -> None:
    fields = {"Name": "Replayed deal", "StageName": "Prospecting", "CloseDate": "2025-01-31"}
    lines = [{"Description": "Only line", "Quantity": 2, "UnitPrice": "10.00"}]

    first = connector.create_opportunity(fields, lines, external_id="PSHUB-opp_seed")
    second = connector.create_opportunity(fields, lines, external_id="PSHUB-opp_seed")

    assert first == second
    assert len(connector.query("SELECT Id FROM Opportunity")) == 1
    assert len(connector.query("SELECT Id FROM OpportunityLineItem")) == 1
