"""Console page times with a large store: 100,000 business exceptions and 1,000,000 audit rows
(plus 50,000 flow runs) on SQLite, generated with bulk inserts. Prints p50/p95 per page (and one
JSON line with ``--json``).

    .venv/bin/python bench/console_pages.py [--json] [--exceptions N] [--audit N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pshub.api.app import create_app
from pshub.bootstrap import Container
from pshub.console import accounts, queries
from pshub.sandboxes.server import ThreadedServer
from pshub.settings import Settings
from pshub.store.db import Database
from pshub.store.tables import AuditEntry, BusinessException, FlowRun

FLOWS = ("deal_to_project", "time_to_bill", "milestone_to_invoice", "revenue_close")
REASONS = ("entity.unmapped", "rate.missing", "project.on_hold", "transient.exhausted")
ENTITIES = ("UK", "US", "SG", "DE", "FR")
CURRENCIES = ("GBP", "USD", "SGD", "EUR", "JPY")
PAGES = {
    "overview": "/console/",
    "exceptions": "/console/exceptions",
    "exceptions filtered by flow+amount": "/console/exceptions?flow=time_to_bill&min_amount=50000",
    "exceptions page 200": "/console/exceptions?page=200",
    "dead letters": "/console/dead-letters",
    "flows": "/console/flows",
    "flows by flow+status": "/console/flows?flow=revenue_close&status=failed",
    "audit": "/console/audit",
    "audit by actor": "/console/audit?actor=olivia",
    "lineage": "/console/lineage?q=deal:salesforce:00600000000042",
    "kpis": "/console/kpis",
    "api /exceptions": "/exceptions?limit=100",
}


class _Port:
    def __init__(self, system: str) -> None:
        self.system = system


def populate(db: Database, n_exc: int, n_audit: int, n_runs: int) -> None:
    rnd = random.Random(7)
    now = datetime.now(UTC)
    chunk = 50_000
    with db.engine.begin() as conn:
        rows: list[dict[str, Any]] = []
        for i in range(n_exc):
            cur = CURRENCIES[i % len(CURRENCIES)]
            minor = rnd.randint(100, 100_000_000)
            rows.append(
                dict(
                    flow=FLOWS[i % len(FLOWS)],
                    kind="dead_letter" if i % 10 == 0 else "business",
                    correlation_id=f"deal:salesforce:006{i:011d}",
                    source_system="salesforce",
                    source_record=f"006{i:011d}",
                    reason_code=REASONS[i % len(REASONS)],
                    reason="generated",
                    amount=None,
                    amount_minor=minor,
                    currency=cur,
                    legal_entity=ENTITIES[i % len(ENTITIES)],
                    status="open" if i % 3 else "resolved",
                    attempts=0,
                    findings={"items": []},
                    trigger={"flow": "bench", "input": {}},
                    created_at=now - timedelta(minutes=i),
                    updated_at=now - timedelta(minutes=i),
                    resolved_at=None,
                )
            )
            if len(rows) == chunk:
                conn.execute(BusinessException.__table__.insert(), rows)
                rows = []
        if rows:
            conn.execute(BusinessException.__table__.insert(), rows)
        rows = []
        for i in range(n_runs):
            started = now - timedelta(seconds=i * 5)
            rows.append(
                dict(
                    workflow_id=f"{FLOWS[i % 4]}:bench:{i}:a1",
                    flow=FLOWS[i % 4],
                    correlation_id=f"deal:salesforce:006{i:011d}",
                    status=("completed", "completed", "exception", "failed")[i % 4],
                    inbox_id=None,
                    attempt=1,
                    started_at=started,
                    finished_at=started + timedelta(seconds=rnd.uniform(0.2, 30)),
                    result=None,
                )
            )
        conn.execute(FlowRun.__table__.insert(), rows)
        rows = []
        for i in range(n_audit):
            rows.append(
                dict(
                    at=now - timedelta(seconds=n_audit - i),
                    correlation_id=f"deal:salesforce:006{i % 100_000:011d}",
                    actor=("pshub", "pshub", "pshub", "olivia")[i % 4],
                    action=(
                        "flow.started",
                        "erp.job.upserted",
                        "flow.completed",
                        "exception.retry",
                    )[i % 4],
                    entity_type="project",
                    entity_id=f"prj_{i % 100_000}",
                    system="netsuite",
                    system_id=str(i),
                    detail={"i": i},
                )
            )
            if len(rows) == chunk:
                conn.execute(AuditEntry.__table__.insert(), rows)
                rows = []
        if rows:
            conn.execute(AuditEntry.__table__.insert(), rows)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")


def timed(client: httpx.Client, path: str) -> float:
    t0 = time.perf_counter()
    client.get(path).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--exceptions", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_level="ERROR", admin_password="bench")
        db = Database(settings.resolved_database_url())
        started = time.perf_counter()
        populate(db, args.exceptions, args.audit, args.runs)
        fill = time.perf_counter() - started
        c = Container(
            settings=settings,
            db=db,
            crm=_Port("salesforce"),  # type: ignore[arg-type]
            psa=_Port("kantata"),  # type: ignore[arg-type]
            erp=_Port("netsuite"),  # type: ignore[arg-type]
        )
        accounts.create_user(c, "olivia", "bench-pw", "operator", actor="bench")
        key = accounts.create_api_client(
            c, "bench", ["read"], actor="bench", rate_per_minute=10**6, burst=10**6
        )
        results: dict[str, dict[str, float]] = {}
        with (
            ThreadedServer(create_app(c), name="bench-console") as server,
            httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": key}) as client,
        ):
            for name, path in PAGES.items():
                client.get(path).raise_for_status()  # warm the database pages
                cold, warm = [], []
                for _ in range(args.requests):
                    # Cold: the page recomputes its dashboard aggregates (every 5 s in use).
                    queries._summaries.clear()
                    cold.append(timed(client, path))
                    warm.append(timed(client, path))
                results[name] = {
                    "p50_ms": round(p(cold, 50), 1),
                    "p95_ms": round(p(cold, 95), 1),
                    "p95_cached_ms": round(p(warm, 95), 1),
                }
        db.dispose()
    if args.json:
        print(json.dumps({"bench": "console_pages", "exceptions": args.exceptions,
                          "audit_rows": args.audit, "flow_runs": args.runs,
                          "fill_seconds": round(fill, 1), "pages": results}))  # fmt: skip
        return
    print(
        f"console pages on SQLite: {args.exceptions:,} exceptions, {args.audit:,} audit rows, "
        f"{args.runs:,} flow runs (generated in {fill:.0f}s); {args.requests} requests per page"
    )
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'p95 ms, aggregates cached':>27}")
    for name, r in results.items():
        print(f"{name:40} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p95_cached_ms']:27.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
