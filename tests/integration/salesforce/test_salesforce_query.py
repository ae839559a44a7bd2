"""SOQL over REST: filters, ordering, and paging that simple-salesforce's query_all follows."""

from __future__ import annotations

from pshub.connectors.salesforce import SalesforceConnector

from .support import Sandbox

ACCOUNTS = 450  # three pages at the smallest batch size Salesforce allows (200)


def test_query_all_follows_next_records_url_across_pages(
    sandbox: Sandbox, connector: SalesforceConnector
) -> None:
    for n in range(ACCOUNTS):
        connector.create_account({"Name": f"Customer {n:03d}", "BillingCountry": "US"})
    auth = {"Authorization": f"Bearer {sandbox.token()}", "Sforce-Query-Options": "batchSize=200"}

    first = sandbox.http.get(
        "/services/data/v59.0/query", params={"q": "SELECT Id FROM Account"}, headers=auth
    ).json()
    records = connector.query("SELECT Id, Name FROM Account ORDER BY Name", batch_size=200)

    assert first["totalSize"] == ACCOUNTS
    assert first["done"] is False
    assert len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    assert len(records) == ACCOUNTS
    assert len({r["Id"] for r in records}) == ACCOUNTS
    assert [r["Name"] for r in records][:2] == ["Customer 000", "Customer 001"]


def test_where_in_and_limit_select_the_matching_records(
    connector: SalesforceConnector,
) -> None:
    for name, country in [("Alpha", "US"), ("Beta", "GB"), ("Gamma", "DE"), ("Delta", "GB")]:
        connector.create_account({"Name": name, "BillingCountry": country})

    found = connector.query(
        "SELECT Name FROM Account WHERE BillingCountry IN ('GB', 'DE') AND Name != 'Beta' "
        "ORDER BY Name DESC LIMIT 5"
    )

    assert found == [{"Name": "Gamma"}, {"Name": "Delta"}]


def test_string_comparisons_ignore_case_as_in_soql(connector: SalesforceConnector) -> None:
    connector.create_account({"Name": "Acme Holdings"})

    found = connector.query("SELECT Name FROM Account WHERE Name = 'ACME HOLDINGS'")

    assert found == [{"Name": "Acme Holdings"}]


def test_count_answers_the_total_size_without_records(
    sandbox: Sandbox, connector: SalesforceConnector
) -> None:
    connector.create_account({"Name": "One"})
    connector.create_account({"Name": "Two"})

    answer = sandbox.http.get(
        "/services/data/v59.0/query",
        params={"q": "SELECT COUNT() FROM Account"},
        headers={"Authorization": f"Bearer {sandbox.token()}"},
    ).json()

    assert answer == {"totalSize": 2, "done": True, "records": []}
