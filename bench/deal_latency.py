"""Latency from a deal closed-won in Salesforce to the PSA and ERP ids written back onto it.

Runs the real stack (three sandboxes + hub on SQLite, or PSHUB_DATABASE_URL) with every
sandbox answering after ``--latency-ms``; closes ``--deals`` deals at ``--interval`` seconds
apart and measures, per deal, from the moment the close is sent to the moment the hub's
write-back to Salesforce is recorded. Prints figures (and one JSON line with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pshub.settings import Settings
from pshub.stack import start_stack
from pshub.store.tables import AuditEntry


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run(deals: int, latency_ms: float, interval: float, data_dir: Path) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir, log_level="ERROR")
    stack = start_stack(settings, latency_ms=latency_ms)
    crm: Any = stack.container.crm
    try:
        account = crm.create_account({"Name": "Bench Holdings plc", "BillingCountry": "GB"})
        opps = [
            crm.create_opportunity(
                {
                    "Name": f"Bench deal {n}",
                    "AccountId": account,
                    "StageName": "Negotiation/Review",
                    "Amount": "90000",
                    "CurrencyIsoCode": "GBP",
                    "CloseDate": "2026-11-20",
                    "Legal_Entity__c": "UK",
                    "Service_Line__c": "ADVISORY",
                    "Billing_Model__c": "Fixed Fee Milestone",
                },
                [
                    {"Description": "Assessment", "Quantity": 1, "UnitPrice": "30000"},
                    {"Description": "Read-out", "Quantity": 1, "UnitPrice": "60000"},
                ],
            )
            for n in range(deals)
        ]
        closed_at: dict[str, float] = {}
        for opp in opps:
            closed_at[opp] = time.time()
            crm.update_opportunity(opp, {"StageName": "Closed Won", "Probability": 100})
            time.sleep(interval)
        done = _written_back(stack, set(opps), timeout=120)
        latencies = [done[o] - closed_at[o] for o in opps if o in done]
    finally:
        stack.stop()
    return {
        "benchmark": "deal_latency",
        "deals": deals,
        "completed": len(latencies),
        "sandbox_latency_ms": latency_ms,
        "interval_seconds": interval,
        "p50_seconds": round(statistics.median(latencies), 3),
        "p95_seconds": round(percentile(latencies, 95), 3),
        "max_seconds": round(max(latencies), 3),
        "target_p95_seconds": 2.0,
    }


def _written_back(stack: Any, opps: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    seen: dict[str, float] = {}
    while time.monotonic() < deadline and len(seen) < len(opps):
        with stack.container.db.session() as s:
            rows = s.execute(
                select(AuditEntry.system_id, AuditEntry.at).where(
                    AuditEntry.action == "crm.opportunity.written_back"
                )
            ).all()
        for system_id, at in rows:
            if system_id in opps:
                seen[system_id] = at.timestamp() if isinstance(at, datetime) else float(at)
        time.sleep(0.05)
    return seen


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pshub-bench-") as tmp:
        result = run(args.deals, args.latency_ms, args.interval, Path(tmp))
    if not args.json:
        print(
            f"closed-won -> ids written back, {result['deals']} deals, sandbox latency "
            f"{args.latency_ms:.0f} ms: p50 {result['p50_seconds']}s, "
            f"p95 {result['p95_seconds']}s, max {result['max_seconds']}s (target p95 < 2s)",
            file=sys.stderr,
        )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
