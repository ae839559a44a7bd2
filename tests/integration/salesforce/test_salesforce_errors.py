"""Salesforce error shapes on the wire, and the connector's translation into the error tree."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from pshub.connectors.errors import (
    ConcurrencyLimitError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
)
from pshub.connectors.salesforce import SalesforceConnector
from pshub.sandboxes.server import free_port

from .support import CLIENT_ID, CLIENT_SECRET, Sandbox


def _auth(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.token()}"}


def test_an_unknown_field_answers_invalid_field_naming_the_field(sandbox: Sandbox) -> None:
    answer = sandbox.http.post(
        "/services/data/v59.0/sobjects/Opportunity",
        json={"Name": "Deal", "Discount__c": 5},
        headers=_auth(sandbox),
    )

    assert answer.status_code == 400
    assert answer.json() == [
        {
            "message": "No such column 'Discount__c' on sobject of type Opportunity",
            "errorCode": "INVALID_FIELD",
            "fields": ["Discount__c"],
        }
    ]


def test_the_connector_rejects_an_unknown_field_with_its_name(
    connector: SalesforceConnector,
) -> None:
    with pytest.raises(RejectedError) as caught:
        connector.create_account({"Name": "Acme", "Tier__c": "Gold"})

    assert caught.value.code == "INVALID_FIELD"
    assert caught.value.fields == ("Tier__c",)
    assert caught.value.status == 400


def test_missing_required_fields_are_named_in_required_field_missing(
    connector: SalesforceConnector,
) -> None:
    with pytest.raises(RejectedError) as caught:
        connector.create_opportunity({"Name": "Deal without stage"})

    assert caught.value.code == "REQUIRED_FIELD_MISSING"
    assert caught.value.fields == ("StageName", "CloseDate")


def test_malformed_soql_answers_malformed_query(
    sandbox: Sandbox, connector: SalesforceConnector
) -> None:
    answer = sandbox.http.get(
        "/services/data/v59.0/query",
        params={"q": "SELECT Id FRM Account"},
        headers=_auth(sandbox),
    )
    with pytest.raises(RejectedError) as caught:
        connector.query("SELECT Name FROM Account WHERE")

    assert answer.status_code == 400
    (error,) = answer.json()
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:11" in error["message"]
    assert caught.value.code == "MALFORMED_QUERY"


def test_a_missing_record_raises_not_found(connector: SalesforceConnector) -> None:
    with pytest.raises(NotFoundError) as caught:
        connector.get_account("001000000000000AAA")

    assert caught.value.code == "NOT_FOUND"
    assert caught.value.status == 404


def test_past_the_daily_api_limit_the_connector_raises_rate_limited(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox(daily_api_limit=3)
    with sandbox.connector() as conn:
        for n in range(3):
            conn.create_account({"Name": f"Within the limit {n}"})
        with pytest.raises(RateLimitedError) as caught:
            conn.create_account({"Name": "One too many"})

    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.status == 403
    assert caught.value.message == "TotalRequests Limit exceeded."


def test_an_outage_answers_server_unavailable_and_the_connector_raises_transient(
    sandbox: Sandbox, connector: SalesforceConnector
) -> None:
    connector.create_account({"Name": "Before the outage"})
    sandbox.http.post("/_sandbox/outage", json={"seconds": 60})

    answer = sandbox.http.get("/services/data/v59.0/sobjects/Account", headers={})
    with pytest.raises(TransientError) as caught:
        connector.create_account({"Name": "During the outage"})

    assert answer.status_code == 503
    assert answer.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert int(answer.headers["Retry-After"]) > 0
    assert caught.value.status == 503
    assert not isinstance(caught.value, RateLimitedError)


def test_an_unreachable_salesforce_raises_transient(sandbox: Sandbox) -> None:
    closed = f"https://127.0.0.1:{free_port()}"
    conn = SalesforceConnector(closed, CLIENT_ID, CLIENT_SECRET, ca_file=str(sandbox.ca))

    with conn, pytest.raises(TransientError) as caught:
        conn.get_account("001000000000000AAA")

    assert caught.value.code == "NETWORK"


def test_the_concurrent_request_limit_raises_concurrency_limited(sandbox: Sandbox) -> None:
    first, second = sandbox.connector(), sandbox.connector()
    first.query("SELECT Id FROM Account")  # both hold a token before the limit is set
    second.query("SELECT Id FROM Account")
    sandbox.http.put("/_sandbox/faults", json={"latency_ms": 1000, "concurrency_limit": 1})
    slow = threading.Thread(target=first.query, args=("SELECT Id FROM Account",))
    slow.start()
    try:
        while sandbox.http.get("/_sandbox/stats").json()["inflight"] < 1:
            threading.Event().wait(0.01)  # until the first request is being served
        with pytest.raises(ConcurrencyLimitError) as caught:
            second.query("SELECT Id FROM Account")
    finally:
        slow.join()
        first.close()
        second.close()

    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.status == 403


def test_the_limits_resource_and_header_report_the_daily_allowance(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox(daily_api_limit=100)
    auth = {"Authorization": f"Bearer {sandbox.token()}"}

    answer = sandbox.http.get("/services/data/v59.0/limits", headers=auth)

    assert answer.json()["DailyApiRequests"] == {"Max": 100, "Remaining": 99}
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=1/100"
    assert sandbox.http.get("/_sandbox/limits").json() == {"daily_api_limit": 100, "used_today": 1}
