"""Month-end close at scale: 10,000 contracts x 36 monthly periods, gather -> engine -> journals.

A store (SQLite file, or ``--db-url``) is filled with canonical contracts and projects of the
four billing models, their PSA/ERP cross-references, one posted billing line per contract
and month (billable time for T&M, cost-only time for the others: 360,000 lines), accepted
milestones and monthly invoices for retainers. Then, timed per stage, the close of the last
period for one legal entity: ``gather`` (bulk queries), ``engine`` (one ``run_contract`` per
contract, 36 periods each; ``--processes`` > 1 spreads it over a process pool), ``aggregate``
(balanced journals), ``save`` (per-contract results and journals in the hub) and ``post``
(a zero-latency sink standing in for the ERP). Setup is not timed.
Prints figures, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from pshub.close import records
from pshub.close.cases import Outcome, run_all
from pshub.close.facts import ContractFacts, gather
from pshub.close.journals import aggregate
from pshub.flows.month_end_close import journal_draft
from pshub.store.db import Database
from pshub.store.invoicing_tables import InvoiceRow, MilestoneBillingRow
from pshub.store.tables import BillingLineRow, CanonicalRecord, CrossReference

PERIODS = [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(36)]
MODELS = ["time_and_materials", "percent_complete", "retainer", "fixed_fee_milestone"]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _contract(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    model = MODELS[n % 4]
    value = Decimal(100_000 + (n % 97) * 1_000)
    cid, pid = f"ctr_{n:08d}", f"prj_{n:08d}"
    contract = {
        "id": cid,
        "opportunity_id": f"opp_{n:08d}",
        "legal_entity": "US",
        "billing_model": model,
        "value": {"amount": str(value), "currency": "USD"},
        "start_date": "2024-01-01",
        "end_date": "2026-12-31",
    }
    milestones = []
    if model == "fixed_fee_milestone":
        milestones = [
            {"id": f"mst_{n:08d}_{k}", "amount": {"amount": str(value / 4), "currency": "USD"}}
            for k in range(4)
        ]
    project = {
        "id": pid,
        "contract_id": cid,
        "budget": {"amount": str(value), "currency": "USD"},
        "milestones": milestones,
    }
    return contract, project


def _line(n: int, m: int, model: str) -> dict[str, Any]:
    billable = model == "time_and_materials"
    amount = Decimal(1_000 + (n * 7 + m * 13) % 2_000)
    key = f"time:{n}:{m}:{'billable' if billable else 'cost'}"
    return {
        "key": key,
        "batch_id": f"b{n}",
        "source_key": key,
        "version": 1,
        "action": "post",
        "project_id": f"ws{n}",
        "legal_entity": "US",
        "period": PERIODS[m],
        "amount": amount if billable else Decimal(0),
        "currency": "USD",
        "status": "posted",
        "erp_id": str(n * 100 + m),
        "body": {"erp": {"billable": billable, "cost": str(amount / 2)}},
    }


def populate(db: Database, contracts: int) -> None:
    """Fill the store (untimed)."""
    with db.session() as s:
        canon, xref, lines, milestones, invoices = [], [], [], [], []
        for n in range(contracts):
            contract, project = _contract(n)
            model = contract["billing_model"]
            canon += [
                _canon("contract", contract),
                _canon("project", project),
            ]
            xref.append(_xref(project["id"], "kantata", "workspace", f"ws{n}"))
            lines += [_line(n, m, model) for m in range(36)]
            if model == "fixed_fee_milestone":
                milestones += [_milestone(n, k, project["id"]) for k in range(4)]
            if model == "retainer":
                invoices += [_invoice(n, m, contract) for m in range(2, 36, 3)]
        for table, rows in (
            (CanonicalRecord, canon),
            (CrossReference, xref),
            (BillingLineRow, lines),
            (MilestoneBillingRow, milestones),
            (InvoiceRow, invoices),
        ):
            for i in range(0, len(rows), 5_000):
                s.execute(insert(table), rows[i : i + 5_000])


def _canon(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity_type": kind,
        "canonical_id": body["id"],
        "version": 1,
        "body": body,
        "updated_at": NOW,
    }


def _xref(pid: str, system: str, stype: str, sid: str) -> dict[str, Any]:
    return {
        "entity_type": "project",
        "canonical_id": pid,
        "system": system,
        "system_type": stype,
        "system_id": sid,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _milestone(n: int, k: int, pid: str) -> dict[str, Any]:
    when = datetime(2024 + k // 2 * 1, 3 + k * 2, 15, tzinfo=UTC)
    return {
        "milestone_id": f"mst_{n:08d}_{k}",
        "project_id": pid,
        "psa_project_id": f"ws{n}",
        "psa_story_id": f"s{n}{k}",
        "status": "invoiced",
        "attempt": 1,
        "completed_at": when,
        "deliveries": 1,
        "accepted_at": when,
        "updated_at": NOW,
    }


def _invoice(n: int, m: int, contract: dict[str, Any]) -> dict[str, Any]:
    year, mon = int(PERIODS[m][:4]), int(PERIODS[m][5:])
    net = (Decimal(contract["value"]["amount"]) / 12).quantize(Decimal("0.01"))
    return {
        "invoice_id": f"inv_{n}_{m}",
        "source": "retainer",
        "source_id": f"r{n}{m}",
        "project_id": f"prj_{n:08d}",
        "contract_id": contract["id"],
        "legal_entity": "US",
        "currency": "USD",
        "net": net,
        "tax": Decimal(0),
        "tax_code": "-",
        "erp_id": f"e{n}{m}",
        "status": "Open",
        "invoice_date": date(year, mon, 28),
        "due_date": date(year, mon, 28),
        "correlation_id": "bench",
        "created_at": NOW,
        "updated_at": NOW,
    }


def _engine(chunk: list[ContractFacts], period: str) -> list[Outcome]:
    return run_all(chunk, period)


def engine(facts: list[ContractFacts], period: str, processes: int) -> list[Outcome]:
    if processes <= 1:
        return run_all(facts, period)
    size = -(-len(facts) // processes)
    chunks = [facts[i : i + size] for i in range(0, len(facts), size)]
    with ProcessPoolExecutor(processes) as pool:
        parts = pool.map(_engine, chunks, [period] * len(chunks))
        return [o for part in parts for o in part]


def run(db: Database, period: str, processes: int) -> dict[str, Any]:
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    with db.session() as s:
        facts = gather(s, "US", period)
    stage("gather")
    outcomes = engine(facts, period, processes)
    stage("engine")
    plans = aggregate("US", period, outcomes)
    stage("aggregate")
    with db.session() as s:
        records.save_outcomes(s, "US", period, "bench", outcomes)
        records.save_plans(s, plans, "bench")
    stage("save")
    sink = [journal_draft(p, "1") for p in plans]  # the ERP call itself: a zero-latency sink
    stage("post")
    errors = [o.error for o in outcomes if o.error]
    return {
        "contracts": len(facts),
        "periods": len(PERIODS),
        "journals": len(sink),
        "journal_debits": {p.key: str(p.total_debit) for p in plans},
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "stages": stages,
        "seconds": round(sum(stages.values()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite:///{Path(tmp) / 'close.sqlite'}"
        db = Database(url)
        try:
            t0 = time.perf_counter()
            populate(db, args.contracts)
            setup = round(time.perf_counter() - t0, 3)
            result = {
                "bench": "close",
                "setup_seconds": setup,
                "processes": args.processes,
                **run(db, PERIODS[-1], args.processes),
            }
        finally:
            db.dispose()
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key}: {value}", file=sys.stdout)


if __name__ == "__main__":
    main()
