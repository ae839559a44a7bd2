"""Salesforce records <-> canonical model, and Salesforce errors -> the connector error tree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from pshub.connectors.errors import (
    ConcurrencyLimitError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnauthorizedError,
)
from pshub.connectors.salesforce import mapping
from pshub.connectors.salesforce.errors import from_status, translate
from pshub.connectors.salesforce.records import (
    SfAccount,
    SfOpportunity,
    SfOpportunityLineItem,
)
from pshub.connectors.salesforce.wire import dumps
from pshub.domain.ids import canonical_id, external_id
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.flows.ports import ProvisioningWriteBack

ACCOUNT = SfAccount(Id="0018d00000AbCdEAAZ", Name="Acme", BillingCountry=" DE ")


def _opportunity(**overrides: object) -> SfOpportunity:
    fields: dict[str, object] = {
        "Id": "0068d00000XyZaBAAV",
        "Name": "Rollout",
        "AccountId": ACCOUNT.Id,
        "StageName": "Closed Won",
        "Probability": 100,
        "Amount": Decimal("1000.005"),
        "CurrencyIsoCode": "EUR",
        "CloseDate": "2025-03-31",
        "Billing_Model__c": "Time & Materials",
        "Legal_Entity__c": "DE01",
        "Service_Line__c": "DATA",
        "Rate_Card__c": "EU-STD",
        "Unmapped__c": "ignored",
    }
    fields.update(overrides)
    return SfOpportunity.model_validate(fields)


@pytest.mark.parametrize(
    ("picklist", "model"),
    [
        ("Time & Materials", BillingModel.TIME_AND_MATERIALS),
        ("Fixed Fee Milestone", BillingModel.FIXED_FEE_MILESTONE),
        ("Percent Complete", BillingModel.PERCENT_COMPLETE),
        ("Retainer", BillingModel.RETAINER),
    ],
)
def test_billing_model_picklist_values_map_both_ways(picklist: str, model: BillingModel) -> None:
    assert mapping.billing_model_from_picklist(picklist) is model
    assert mapping.billing_model_to_picklist(model) == picklist


@pytest.mark.parametrize("value", ["Pay as you go", "", None, "time & materials"])
def test_an_unknown_billing_model_maps_to_none(value: str | None) -> None:
    assert mapping.billing_model_from_picklist(value) is None


def test_an_opportunity_maps_to_the_canonical_model() -> None:
    account = mapping.account_to_canonical(ACCOUNT)

    opp = mapping.opportunity_to_canonical(_opportunity(), account, [])

    assert opp.id == canonical_id("opportunity", "salesforce", "0068d00000XyZaBAAV")
    assert opp.amount == Money.of("1000.01", "EUR")  # rounded half-up to the minor unit
    assert opp.billing_model is BillingModel.TIME_AND_MATERIALS
    assert opp.close_date == date(2025, 3, 31)
    assert (opp.legal_entity, opp.service_line, opp.rate_card) == ("DE01", "DATA", "EU-STD")
    assert opp.account.billing_country == "DE"


def test_a_bad_billing_model_does_not_stop_the_mapping() -> None:
    account = mapping.account_to_canonical(ACCOUNT)

    opp = mapping.opportunity_to_canonical(_opportunity(Billing_Model__c="Barter"), account, [])

    assert opp.billing_model is None


def test_float_amounts_become_exact_decimals_through_their_repr() -> None:
    opp = _opportunity(Amount=0.1 + 0.2, Probability=12.5)

    assert opp.Amount == Decimal("0.30000000000000004")
    assert mapping.to_money(opp.Amount, "USD") == Money.of("0.30", "USD")
    assert opp.Probability == Decimal("12.5")


def test_a_missing_amount_or_currency_falls_back_to_zero_in_the_org_currency() -> None:
    account = mapping.account_to_canonical(ACCOUNT)

    opp = mapping.opportunity_to_canonical(
        _opportunity(Amount=None, CurrencyIsoCode=None, Probability=None), account, []
    )

    assert opp.amount == Money.of("0", "USD")
    assert opp.probability == Decimal(0)


def test_yen_amounts_round_to_whole_units() -> None:
    assert mapping.to_money(Decimal("1500.5"), "JPY") == Money.of("1501", "JPY")


def test_line_items_map_with_the_opportunity_currency() -> None:
    line = SfOpportunityLineItem.model_validate(
        {
            "Id": "00k8d000001AbCdAAA",
            "Name": "Rollout Design",
            "Description": "Design",
            "Quantity": 2,
            "UnitPrice": 2500.25,
            "TotalPrice": 5000.5,
            "ServiceDate": "2025-05-31",
        }
    )

    mapped = mapping.line_to_canonical(line, "GBP")

    assert mapped.name == "Design"
    assert mapped.quantity == Decimal(2)
    assert mapped.unit_price == Money.of("2500.25", "GBP")
    assert mapped.total == Money.of("5000.50", "GBP")
    assert mapped.service_date == date(2025, 5, 31)


def test_15_character_ids_are_widened_to_18_so_canonical_ids_are_stable() -> None:
    assert mapping.id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert mapping.id18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    account = mapping.account_to_canonical(SfAccount(Id="001A0000006Vm9r", Name="A"))
    assert account.id == canonical_id("account", "salesforce", "001A0000006Vm9rIAC")


def test_write_back_fields_carry_the_hub_external_id() -> None:
    ids = ProvisioningWriteBack(
        canonical_contract_id="ctr_9",
        psa_project_id="P1",
        erp_customer_id="C1",
        erp_job_id="J1",
        status="Provisioned",
    )

    fields = mapping.writeback_fields("0068d00000XyZaB", ids)

    opp_id = canonical_id("opportunity", "salesforce", mapping.id18("0068d00000XyZaB"))
    assert fields["PSHub_Id__c"] == external_id(opp_id)
    assert fields["PSHub_Contract_Id__c"] == "ctr_9"
    assert fields["Provisioning_Status__c"] == "Provisioned"


def test_request_bodies_write_decimals_and_money_as_exact_numbers() -> None:
    body = dumps(
        {
            "Amount": Decimal("1234567890.12"),
            "Fee": Money.of("0.10", "USD"),
            "CloseDate": date(2025, 1, 31),
            "Name": "Ünïcode",
        }
    )

    assert body == (
        '{"Amount":1234567890.12,"Fee":0.10,"CloseDate":"2025-01-31","Name":"\\u00dcn\\u00efcode"}'
    )


# -- errors ------------------------------------------------------------------------------

URL = "https://example.my.salesforce.com/services/data/v59.0/sobjects/Opportunity"


def _sf(cls: type[SalesforceError], status: int, name: str, content: Any) -> SalesforceError:
    """simple-salesforce passes the parsed JSON body as ``content`` (typed bytes upstream)."""
    return cls(URL, status, name, content)


def test_invalid_field_is_a_rejection_naming_the_field() -> None:
    content = [
        {"message": "No such column 'X__c'", "errorCode": "INVALID_FIELD", "fields": ["X__c"]}
    ]

    error = translate(_sf(SalesforceMalformedRequest, 400, "x", content), operation="create")

    assert type(error) is RejectedError
    assert (error.code, error.fields, error.status) == ("INVALID_FIELD", ("X__c",), 400)


def test_the_daily_limit_is_rate_limited_and_concurrency_is_its_own_kind() -> None:
    daily = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    concurrent = [
        {
            "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]

    limit = translate(
        _sf(SalesforceRefusedRequest, 403, "q", daily), operation="query", retry_after=30.0
    )
    busy = translate(_sf(SalesforceRefusedRequest, 403, "q", concurrent), operation="query")

    assert type(limit) is RateLimitedError
    assert limit.retry_after == 30.0
    assert type(busy) is ConcurrencyLimitError


def test_server_errors_are_transient_and_missing_records_not_found() -> None:
    unavailable = [{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}]

    server = translate(_sf(SalesforceGeneralError, 503, "q", unavailable), operation="query")
    missing = translate(_sf(SalesforceResourceNotFound, 404, "get", []), operation="get")

    assert type(server) is TransientError
    assert type(missing) is NotFoundError


def test_network_failures_are_transient_and_refused_permissions_unauthorized() -> None:
    timeout = translate(requests.ReadTimeout("slow"), operation="get")
    refused = from_status(
        403, [{"message": "no", "errorCode": "INSUFFICIENT_ACCESS"}], operation="update"
    )

    assert type(timeout) is TransientError
    assert timeout.code == "TIMEOUT"
    assert type(refused) is UnauthorizedError
