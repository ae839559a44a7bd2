"""Account concurrency governance, the connector's shared budget, and injected faults."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from netsuite_helpers import US, Sandbox, StartNetsuite, account

from pshub.connectors.errors import (
    ConcurrencyLimitError,
    ConnectorError,
    RejectedError,
    TransientError,
    UnauthorizedError,
)


def in_parallel(count: int, call: Any) -> list[Any]:
    """Run ``call(i)`` on ``count`` threads released together; results or raised errors."""
    gate = threading.Barrier(count)

    def run(i: int) -> Any:
        gate.wait()
        try:
            return call(i)
        except ConnectorError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_parallel_raw_requests_beyond_the_limit_get_the_vendor_concurrency_error(
    start_netsuite: StartNetsuite,
) -> None:
    netsuite: Sandbox = start_netsuite("TSTDRV-RAW", concurrency_limit=2)
    netsuite.set_faults(latency_ms=300)

    responses: list[httpx.Response] = in_parallel(
        20, lambda i: netsuite.send("GET", "/subsidiary/1")
    )

    statuses = Counter(r.status_code for r in responses)
    rejected = [r for r in responses if r.status_code == 429]
    assert statuses[200] >= 2 and rejected
    assert set(statuses) == {200, 429}
    body = rejected[0].json()
    assert body["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert body["o:errorDetails"][0]["detail"].startswith(
        "Concurrent request limit exceeded. Request blocked."
    )
    stats = netsuite.admin("GET", "/stats")
    assert stats["faults_served"]["concurrency"] == len(rejected)
    assert stats["peak_inflight"] == 2


def test_parallel_calls_through_the_connector_stay_within_the_budget(
    start_netsuite: StartNetsuite,
) -> None:
    netsuite: Sandbox = start_netsuite("TSTDRV-BUDGET", concurrency_limit=2)
    netsuite.set_faults(latency_ms=100)
    erp = netsuite.connector(max_concurrency=2)

    results = in_parallel(20, lambda i: erp.upsert_customer(account(f"Customer {i}"), US, None))

    assert all(isinstance(r, str) for r in results), results
    stats = netsuite.admin("GET", "/stats")
    assert stats["faults_served"].get("concurrency", 0) == 0
    assert stats["peak_inflight"] <= 2
    assert stats["records"]["customer"] == 20
    assert erp.budget.peak <= 2


def test_connectors_of_one_account_share_one_budget(start_netsuite: StartNetsuite) -> None:
    netsuite: Sandbox = start_netsuite("TSTDRV-SHARED", concurrency_limit=2)
    netsuite.set_faults(latency_ms=100)
    connectors = [netsuite.connector(max_concurrency=2) for _ in range(4)]

    results = in_parallel(
        16, lambda i: connectors[i % 4].upsert_customer(account(f"Shared {i}"), US, None)
    )

    assert all(isinstance(r, str) for r in results), results
    assert len({id(c.budget) for c in connectors}) == 1
    assert netsuite.admin("GET", "/stats")["faults_served"].get("concurrency", 0) == 0


def test_a_concurrency_rejection_is_a_concurrency_limit_error_not_an_auth_failure(
    start_netsuite: StartNetsuite,
) -> None:
    netsuite: Sandbox = start_netsuite("TSTDRV-OVER", concurrency_limit=1)
    erp = netsuite.connector(max_concurrency=10)
    erp.currency_id("USD")  # warm the currency lookup before the burst
    netsuite.set_faults(latency_ms=300)

    results = in_parallel(10, lambda i: erp.upsert_customer(account(f"Over {i}"), US, None))

    errors = [r for r in results if isinstance(r, ConnectorError)]
    assert errors and all(isinstance(e, ConcurrencyLimitError) for e in errors)
    assert not any(isinstance(e, UnauthorizedError) for e in errors)
    assert {(e.status, e.code) for e in errors} == {(429, "CONCURRENCY_LIMIT_EXCEEDED")}
    assert all(e.retryable for e in errors)


def test_an_outage_raises_a_transient_error(netsuite: Sandbox) -> None:
    erp = netsuite.connector()
    netsuite.admin("POST", "/outage", {"seconds": 30})

    with pytest.raises(TransientError) as caught:
        erp.upsert_customer(account("Initech"), US, None)

    assert caught.value.status == 503
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert not isinstance(caught.value, RejectedError)


def test_an_injected_server_error_raises_a_transient_error(netsuite: Sandbox) -> None:
    erp = netsuite.connector()
    netsuite.set_faults(error_rate=1.0)

    with pytest.raises(TransientError) as caught:
        erp.get_customer("101")

    assert (caught.value.status, caught.value.code) == (500, "UNEXPECTED_ERROR")


def test_a_timeout_raises_a_transient_error(netsuite: Sandbox) -> None:
    erp = netsuite.connector(timeout=0.2)
    netsuite.set_faults(latency_ms=800)

    with pytest.raises(TransientError) as caught:
        erp.get_customer("101")

    assert "timed out" in caught.value.message


def test_a_reset_clears_faults_but_keeps_the_account_limit(start_netsuite: StartNetsuite) -> None:
    netsuite: Sandbox = start_netsuite("TSTDRV-RESET", concurrency_limit=3)
    netsuite.set_faults(latency_ms=50, error_rate=0.5)

    netsuite.admin("POST", "/reset")

    settings = netsuite.admin("GET", "/faults")
    assert (settings["concurrency_limit"], settings["latency_ms"], settings["error_rate"]) == (
        3,
        0,
        0,
    )


def test_latency_is_the_response_time_with_the_vendors_work_inside_it(
    start_netsuite: StartNetsuite,
) -> None:
    """``latency_ms`` is when the answer comes, counted from the request's arrival: the write
    is done while the client still waits, and the answer comes no sooner than the latency."""
    import time

    netsuite: Sandbox = start_netsuite("TSTDRV-LATENCY")
    erp = netsuite.connector()
    erp.upsert_customer(account("Warm-up"), US, None)  # currencies and sessions looked up
    netsuite.set_faults(latency_ms=800)
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        answer = pool.submit(erp.upsert_customer, account("Slow answer"), US, None)
        time.sleep(0.4)
        names = [c.get("companyName") for c in netsuite.admin("GET", "/records/customer")]
        assert "Slow answer" in names and not answer.done()  # written, not yet answered
        assert answer.result(timeout=10)
        assert time.monotonic() - started >= 0.8


def test_the_sandbox_counts_each_answered_request_from_arrival_to_answer(
    start_netsuite: StartNetsuite,
) -> None:
    """``answered`` and ``busy_seconds`` in the stats: the vendor's own view of its response
    time (the drain benchmark sets the hub's slot hold against it). Refused requests are not
    answered work and are not counted."""
    netsuite: Sandbox = start_netsuite("TSTDRV-BUSY")
    erp = netsuite.connector()
    erp.upsert_customer(account("Warm-up"), US, None)
    before = netsuite.admin("GET", "/stats")
    netsuite.set_faults(latency_ms=200)
    erp.upsert_customer(account("Timed"), US, None)
    after = netsuite.admin("GET", "/stats")
    assert after["answered"] - before["answered"] == 1
    assert after["busy_seconds"] - before["busy_seconds"] >= 0.2
    netsuite.set_faults(latency_ms=0)
    netsuite.admin("POST", "/outage", {"seconds": 30})
    with pytest.raises(TransientError):
        erp.upsert_customer(account("Refused"), US, None)
    assert netsuite.admin("GET", "/stats")["answered"] == after["answered"]
