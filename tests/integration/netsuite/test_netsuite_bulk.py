"""Asynchronous requests, batch upserts of time bills, and the drain rate within the budget."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from netsuite_helpers import Books, Sandbox, StartNetsuite, time_bill

from pshub.domain.ids import external_id

ASYNC = {"Prefer": "respond-async"}
BATCH = {**ASYNC, "Content-Type": "application/vnd.oracle.resource+json; type=collection"}


def raw_bill(books: Books, eid: str, hours: Any = 8) -> dict[str, Any]:
    return {
        "externalId": eid,
        "employee": {"id": books.employee_id},
        "customer": {"id": books.job_id},
        "item": {"id": "1"},
        "tranDate": "2025-03-03",
        "hours": hours,
    }


def wait_for(netsuite: Sandbox, location: str) -> dict[str, Any]:
    """Poll a job until it completes (the sandbox runs jobs within milliseconds)."""
    for _ in range(500):
        job: dict[str, Any] = netsuite.send("GET", location).json()
        if job["completed"]:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {location} did not complete")


@pytest.fixture
def books(netsuite: Sandbox) -> Books:
    return Books(netsuite)


def test_an_async_upsert_answers_202_with_a_job_whose_task_result_is_the_record(
    netsuite: Sandbox, books: Books
) -> None:
    accepted = netsuite.send("PUT", "/timeBill/eid:T-1", json=raw_bill(books, "T-1"), headers=ASYNC)

    assert accepted.status_code == 202
    assert accepted.headers["Preference-Applied"] == "respond-async"
    location = accepted.headers["Location"]
    assert location.startswith(netsuite.url + "/services/rest/async/v1/job/")
    job = wait_for(netsuite, location)
    assert (job["progress"], job["task"]["links"][0]["href"]) == ("succeeded", location + "/task")
    tasks = netsuite.send("GET", location + "/task").json()
    assert [t["id"] for t in tasks["items"]] == ["1"]
    task = netsuite.send("GET", location + "/task/1").json()
    assert (task["completed"], task["progress"]) == (True, "succeeded")
    assert {link["rel"] for link in task["links"]} == {"self", "related"}
    result = netsuite.send("GET", location + "/task/1/result")
    assert result.status_code == 204
    record_url = result.headers["Location"]
    assert netsuite.send("GET", record_url).json()["externalId"] == "T-1"


def test_a_refused_async_write_has_the_error_as_its_task_result(
    netsuite: Sandbox, books: Books
) -> None:
    accepted = netsuite.send(
        "PUT", "/timeBill/eid:T-1", json=raw_bill(books, "T-1", hours=-1), headers=ASYNC
    )

    job = wait_for(netsuite, accepted.headers["Location"])
    result = netsuite.send("GET", accepted.headers["Location"] + "/task/1/result")

    assert job["progress"] == "failed"
    assert result.status_code == 400
    assert result.json()["o:errorDetails"][0]["o:errorPath"] == "hours"


def test_a_reused_idempotency_key_points_at_the_first_job(netsuite: Sandbox, books: Books) -> None:
    headers = {**ASYNC, "X-NetSuite-Idempotency-Key": "cac827ea-3543-4cda-add2-bae634326c27"}
    first = netsuite.send("PUT", "/timeBill/eid:T-1", json=raw_bill(books, "T-1"), headers=headers)

    again = netsuite.send("PUT", "/timeBill/eid:T-1", json=raw_bill(books, "T-1"), headers=headers)

    assert again.status_code == 400
    assert again.json()["o:errorDetails"][0]["o:errorCode"] == "IDEMPOTENCY_ERROR"
    assert again.headers["Location"] == first.headers["Location"]


def test_a_batch_upsert_makes_one_task_per_record_in_order(netsuite: Sandbox, books: Books) -> None:
    items = [raw_bill(books, f"T-{n}") for n in range(3)]

    accepted = netsuite.send("PUT", "/timeBill", json={"items": items}, headers=BATCH)

    wait_for(netsuite, accepted.headers["Location"])
    tasks = netsuite.send(
        "GET", accepted.headers["Location"] + "/task", params={"expandSubResources": "true"}
    ).json()["items"]
    locations = [t["result"]["location"] for t in tasks]
    assert [netsuite.send("GET", url).json()["externalId"] for url in locations] == [
        "T-0",
        "T-1",
        "T-2",
    ]


def test_a_batch_must_be_asynchronous_and_at_most_100_records(
    netsuite: Sandbox, books: Books
) -> None:
    sync_batch = netsuite.send(
        "PUT",
        "/timeBill",
        json={"items": [raw_bill(books, "T-1")]},
        headers={"Content-Type": BATCH["Content-Type"]},
    )
    too_big = netsuite.send(
        "PUT",
        "/timeBill",
        json={"items": [raw_bill(books, f"T-{n}") for n in range(101)]},
        headers=BATCH,
    )

    assert sync_batch.status_code == too_big.status_code == 400
    assert too_big.json()["o:errorDetails"][0]["o:errorPath"] == "items"


def test_a_batch_of_100_with_one_bad_record_posts_99_and_names_the_bad_field(
    netsuite: Sandbox, books: Books
) -> None:
    erp = netsuite.connector()
    bills = [time_bill(books, n) for n in range(100)]
    bills[41] = time_bill(books, 41, hours="-3")

    results = erp.upsert_time_bills(bills)

    refused = [r for r in results if not r.posted]
    assert sum(r.posted for r in results) == 99
    assert [(r.external_id, r.fields) for r in refused] == [(bills[41].external_id, ("hours",))]
    assert refused[0].error is not None and refused[0].error.code == "INVALID_CONTENT"
    assert netsuite.admin("GET", "/stats")["records"]["timeBill"] == 99
    assert netsuite.send("GET", f"/timeBill/eid:{external_id(bills[7].external_id)}").json()[
        "id"
    ] == next(r.internal_id for r in results if r.external_id == bills[7].external_id)


def test_upserting_the_same_batch_again_creates_nothing_new(
    netsuite: Sandbox, books: Books
) -> None:
    erp = netsuite.connector()
    bills = [time_bill(books, n) for n in range(100)]
    first = erp.upsert_time_bills(bills)

    again = erp.upsert_time_bills(bills)
    changed = erp.upsert_time_bills([b.model_copy(update={"memo": "edited"}) for b in bills])

    assert [r.internal_id for r in again] == [r.internal_id for r in first]
    assert [r.internal_id for r in changed] == [r.internal_id for r in first]
    assert netsuite.admin("GET", "/stats")["records"]["timeBill"] == 100


def test_fifty_batches_within_the_budget_meet_no_concurrency_refusal(
    start_netsuite: StartNetsuite,
) -> None:
    netsuite = start_netsuite("TSTDRV-BULK50", concurrency_limit=5)
    books = Books(netsuite)
    netsuite.set_faults(latency_ms=50)
    erp = netsuite.connector(max_concurrency=5)

    results = erp.upsert_time_bills([time_bill(books, n) for n in range(50 * 100)])

    stats = netsuite.admin("GET", "/stats")
    assert all(r.posted for r in results)
    assert stats["faults_served"].get("concurrency", 0) == 0
    assert stats["peak_inflight"] <= 5
    assert stats["records"]["timeBill"] == 5000


def test_a_429_with_retry_after_is_waited_out(start_netsuite: StartNetsuite) -> None:
    netsuite = start_netsuite("TSTDRV-BULK429")
    books = Books(netsuite)
    netsuite.set_faults(rate_limit_per_second=2, rate_limit_burst=1)
    erp = netsuite.connector()

    results = erp.upsert_time_bills([time_bill(books, n) for n in range(300)])

    assert all(r.posted for r in results)
    assert netsuite.admin("GET", "/stats")["faults_served"]["rate_limit"] >= 1


def test_drain_of_10000_time_bills_is_measured(
    start_netsuite: StartNetsuite, capsys: pytest.CaptureFixture[str]
) -> None:
    netsuite = start_netsuite("TSTDRV-DRAIN", concurrency_limit=5)
    books = Books(netsuite)
    bills = [time_bill(books, n) for n in range(10_000)]
    netsuite.set_faults(latency_ms=50)
    erp = netsuite.connector(max_concurrency=5, batch_size=100)

    started = time.perf_counter()
    results = erp.upsert_time_bills(bills)
    elapsed = time.perf_counter() - started

    stats = netsuite.admin("GET", "/stats")
    with capsys.disabled():
        print(
            f"\n[netsuite drain] 10000 time bills, batches of 100, concurrency 5, latency 50 ms:"
            f" {elapsed:.2f} s (ideal 2.00 s), {stats['requests']} requests,"
            f" {stats['faults_served'].get('concurrency', 0)} concurrency refusals"
        )
    assert sum(r.posted for r in results) == 10_000
    assert httpx.codes.OK  # measured, not asserted: see the printed line
