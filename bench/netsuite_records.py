"""CPU per billing record on both sides of the NetSuite batch path: sandbox and connector.

Serves the NetSuite sandbox in its own process (``python -m pshub.sandboxes.netsuite``, as
the drain benchmark does), posts ``--records`` time-bill lines through the connector's
billing port (``post_billing_lines``: bodies, batch upserts of 100, async jobs, results) with
no injected latency, then posts them again (a replay: every upsert updates). The sandbox's CPU
is read from ``/proc/<pid>/stat`` (user + system), the connector's is this process's
``time.process_time()`` while posting; both are divided by the records posted. Prints
figures (and one JSON line with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from pshub.bench_billing import cpu_seconds, sandbox_process
from pshub.bootstrap import netsuite_connector
from pshub.connectors.netsuite import NetSuiteConnector
from pshub.flows.ports import ErpBillingLine
from pshub.settings import Settings

JOBS = 20
EMPLOYEES = ("2002-Ada", "2003-Grace", "2004-Alan", "2006-Edsger")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``, read by the drain's helper)."""
    used = cpu_seconds(pid)
    if used is None:
        raise RuntimeError(f"no CPU figure for process {pid}: this benchmark reads /proc")
    return used


def billing_lines(records: int, jobs: list[str], memo: str = "Bench work") -> list[ErpBillingLine]:
    start = date(2026, 10, 1)
    return [
        ErpBillingLine(
            key=f"tl_bench_{n:07d}",
            external_id=f"PSHUB-tl_bench_{n:07d}",
            action="post",
            kind="time",
            customer_id=jobs[n % len(jobs)],
            job_id=jobs[n % len(jobs)],
            subsidiary_id="1",
            employee=EMPLOYEES[n % len(EMPLOYEES)],
            work_date=start + timedelta(days=n % 28),
            posting_date=start + timedelta(days=n % 28),
            period="2026-10",
            hours=Decimal("7.50"),
            rate=Decimal("180.00"),
            amount=Decimal("1350.00"),
            cost=None,
            currency="USD",
            billable=True,
            tax_code="",
            memo=f"{memo} {n}",
        )
        for n in range(records)
    ]


def _seed_jobs(erp: NetSuiteConnector) -> list[str]:
    usd = erp.currency_id("USD")
    customer = erp._upsert(
        "customer",
        "acc_bench",
        {"companyName": "Bench Holdings", "subsidiary": {"id": "1"}, "currency": {"id": usd}},
    )
    return [
        erp._upsert(
            "job",
            f"prj_bench_{n}",
            {"companyName": f"Bench project {n}", "parent": {"id": customer}},
        )
        for n in range(JOBS)
    ]


def _post(erp: NetSuiteConnector, lines: list[ErpBillingLine]) -> int:
    return sum(1 for r in erp.post_billing_lines(lines) if r.ok)


def _requests(url: str) -> int:
    return int(httpx.get(f"{url}/_sandbox/stats", timeout=10).json().get("requests", 0))


def _measured(url: str, pid: int, post: Callable[[], int]) -> dict[str, float]:
    requests = _requests(url)
    sandbox, hub, wall = process_cpu(pid), time.process_time(), time.perf_counter()
    posted = post()
    sandbox, hub = process_cpu(pid) - sandbox, time.process_time() - hub
    wall = time.perf_counter() - wall
    return {
        "posted": posted,
        "requests": _requests(url) - requests,
        "sandbox_us_per_record": round(sandbox / posted * 1e6, 1),
        "connector_us_per_record": round(hub / posted * 1e6, 1),
        "seconds": round(wall, 2),
    }


def run(records: int, data_dir: Path) -> dict[str, Any]:
    with sandbox_process(data_dir) as (url, pid):
        erp = netsuite_connector(Settings(), url, max_concurrency=5)
        try:
            jobs = _seed_jobs(erp)
            lines = billing_lines(records, jobs)
            erp.post_billing_lines(lines[: len(EMPLOYEES)])  # employees exist before timing
            # A new memo, so every replayed batch is new work (not an idempotent resubmission).
            edited = billing_lines(records, jobs, "Edited")
            create = _measured(url, pid, lambda: _post(erp, lines))
            replay = _measured(url, pid, lambda: _post(erp, edited))
        finally:
            erp.close()
    return {
        "benchmark": "netsuite_records",
        "records": records,
        "create": create,
        "replay": replay,
        "sandbox_us_per_record": create["sandbox_us_per_record"],
        "connector_us_per_record": create["connector_us_per_record"],
        "target_sandbox_us_per_record": 100,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pshub-bench-") as tmp:
        result = run(args.records, Path(tmp))
    if not args.json:
        for phase in ("create", "replay"):
            r = result[phase]
            print(
                f"{phase}: {r['posted']} time bills in {r['seconds']}s; CPU per record: "
                f"sandbox {r['sandbox_us_per_record']} µs, "
                f"connector {r['connector_us_per_record']} µs (target sandbox <= 100 µs)",
                file=sys.stderr,
            )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
