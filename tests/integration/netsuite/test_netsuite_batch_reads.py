"""Within one async batch, each item sees what the items before it wrote (reads are memoised
per job, and every write refreshes them)."""

from __future__ import annotations

from typing import Any

from netsuite_helpers import RECORDS, Books, Sandbox
from test_netsuite_bulk import BATCH, raw_bill, wait_for


def _run_batch(netsuite: Sandbox, path: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    accepted = netsuite.send("PUT", path, json={"items": items}, headers=BATCH)
    assert accepted.status_code == 202, accepted.text
    wait_for(netsuite, accepted.headers["Location"])
    tasks: list[dict[str, Any]] = netsuite.send(
        "GET", accepted.headers["Location"] + "/task", params={"expandSubResources": "true"}
    ).json()["items"]
    return tasks


def test_one_external_id_twice_in_a_batch_makes_one_record_with_the_later_values(
    netsuite: Sandbox,
) -> None:
    books = Books(netsuite)

    tasks = _run_batch(
        netsuite, "/timeBill", [raw_bill(books, "T-9", hours=2), raw_bill(books, "T-9", hours=5)]
    )

    assert [t["progress"] for t in tasks] == ["succeeded", "succeeded"]
    assert tasks[0]["result"]["location"] == tasks[1]["result"]["location"]
    bill = netsuite.send("GET", "/timeBill/eid:T-9").json()
    assert bill["hours"] == 5
    stats = netsuite.http.get(f"{netsuite.url}/_sandbox/stats").json()
    assert stats["records"]["timeBill"] == 1


def test_a_record_written_by_an_earlier_item_is_seen_by_later_items_of_the_batch(
    netsuite: Sandbox,
) -> None:
    first_entity = "101"  # the sandbox's first entity id: the parent made by the second item
    child = {"companyName": "Child", "subsidiary": {"id": "1"}, "parent": {"id": first_entity}}
    items = [
        {**child, "externalId": "C-early"},  # refused: customer 101 does not exist yet
        {"companyName": "Parent", "subsidiary": {"id": "1"}, "externalId": "C-parent"},
        {**child, "externalId": "C-late"},
    ]

    tasks = _run_batch(netsuite, "/customer", items)

    assert [t["progress"] for t in tasks] == ["failed", "succeeded", "succeeded"]
    assert tasks[0]["result"]["o:errorDetails"][0]["o:errorPath"] == "parent"
    assert tasks[1]["result"]["location"].endswith(f"{RECORDS}/customer/{first_entity}")
    late = netsuite.send("GET", "/customer/eid:C-late").json()
    assert late["parent"]["id"] == first_entity


def test_a_period_closed_between_two_batches_refuses_the_second(netsuite: Sandbox) -> None:
    books = Books(netsuite)
    invoice = {
        "entity": {"id": books.customer_id},
        "tranDate": "2025-03-03",
        "item": {"items": [{"item": {"id": "1"}, "quantity": 1, "rate": 10}]},
    }
    opened = _run_batch(netsuite, "/invoice", [{**invoice, "externalId": "I-1"}])
    period = netsuite.send("GET", "/invoice/eid:I-1").json()["postingPeriod"]["id"]
    closed = netsuite.http.post(f"{netsuite.url}/_sandbox/periods/{period}", json={"closed": True})
    assert closed.status_code == 200, closed.text
    refused = _run_batch(netsuite, "/invoice", [{**invoice, "externalId": "I-2"}])

    assert opened[0]["progress"] == "succeeded"
    assert refused[0]["progress"] == "failed"
    assert (
        "not within an open accounting period"
        in refused[0]["result"]["o:errorDetails"][0]["detail"]
    )
