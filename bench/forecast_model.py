"""Revenue forecast model at scale: 10,000 contracts, 5,000 opportunities, 18 months.

Builds deterministic synthetic inputs (seeded; a mix of T&M with assignments, milestone,
percent-complete and retainer contracts over five legal entities and six service lines,
with named and placeholder assignments and consultant capacity), then times the pure
model: ``forecast`` (cells, lineage, capacity risk), ``take_snapshot`` (content id) and a
``diff`` against a re-run with a slipped milestone and a lost deal. Prints seconds (and one
JSON line with ``--json``). Usage: ``.venv/bin/python bench/forecast_model.py [--json]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from decimal import Decimal
from typing import Any

from pshub.domain.forecast import (
    Assignment,
    Capacity,
    ContractForecastInput,
    ForecastInputs,
    MilestonePlan,
    OpenOpportunity,
    PercentCompletePoint,
    StageProbabilities,
    add_months,
    diff,
    forecast,
    take_snapshot,
)
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel

ENTITIES = {"US": "USD", "UK": "GBP", "DE": "EUR", "SG": "SGD", "AU": "AUD"}
LINES = ["ADVISORY", "CLOUD", "DATA", "SECURITY", "APPS", "MANAGED"]
STAGES = {"Prospecting": "10", "Qualification": "20", "Proposal": "50", "Negotiation": "75"}
ROLES = ["analyst", "consultant", "manager", "architect"]
AS_OF = "2026-01"


def _month(base: str, offset: int) -> date:
    label = add_months(base, offset)
    return date(int(label[:4]), int(label[5:]), 1)


def build(contracts: int, opportunities: int, horizon: int, seed: int) -> ForecastInputs:
    rng = random.Random(seed)
    rows: list[ContractForecastInput] = []
    assignments: list[Assignment] = []
    models = list(BillingModel)
    consultants = [f"emp{n:05d}" for n in range(contracts // 4)]
    for n in range(contracts):
        entity = rng.choice(list(ENTITIES))
        rows.append(_contract(rng, n, entity, models[n % len(models)], horizon, assignments))
    for a in range(len(assignments)):
        if rng.random() < 0.8:  # most demand is staffed with a named consultant
            assignments[a] = assignments[a].model_copy(
                update={"consultant": rng.choice(consultants)}
            )
    capacity = [
        Capacity(consultant=c, role=ROLES[i % 4], month=add_months(AS_OF, m), available_hours=140)
        for i, c in enumerate(consultants)
        for m in range(horizon)
    ]
    opps = [_opportunity(rng, n) for n in range(opportunities)]
    return ForecastInputs(
        contracts=tuple(rows),
        assignments=tuple(assignments),
        opportunities=tuple(opps),
        stage_probabilities=StageProbabilities(
            percent_by_stage={k: Decimal(v) for k, v in STAGES.items()}
        ),
        capacity=tuple(capacity),
    )


def _contract(
    rng: random.Random,
    n: int,
    entity: str,
    model: BillingModel,
    horizon: int,
    assignments: list[Assignment],
) -> ContractForecastInput:
    ccy = ENTITIES[entity]
    value = Decimal(rng.randrange(50_000, 2_000_000))
    months = rng.randrange(6, 24)
    start = rng.randrange(-6, 6)
    cid = f"ctr{n:06d}"
    extra: dict[str, Any] = {}
    if model is BillingModel.TIME_AND_MATERIALS:
        for m in range(max(start, 0), min(start + months, horizon)):
            for k in range(2):
                assignments.append(
                    Assignment(
                        id=f"{cid}-a{m}-{k}",
                        contract_id=cid,
                        consultant=None,
                        role=ROLES[k],
                        month=add_months(AS_OF, m),
                        planned_hours=Decimal(rng.randrange(20, 120)),
                        bill_rate=Money.of(rng.choice(["150", "185.50", "220"]), ccy),
                    )
                )
    elif model is BillingModel.FIXED_FEE_MILESTONE:
        parts = [value / 4] * 4
        extra["milestones"] = tuple(
            MilestonePlan(
                id=f"{cid}-m{k}",
                due_date=_month(AS_OF, start + (k + 1) * months // 4),
                amount=Money.of(parts[k], ccy),
                recognised=start + (k + 1) * months // 4 < 0,
            )
            for k in range(4)
        )
    elif model is BillingModel.PERCENT_COMPLETE:
        extra["percent_complete_plan"] = tuple(
            PercentCompletePoint(
                month=add_months(AS_OF, start + k),
                cumulative_percent=Decimal(100 * (k + 1)) / months,
            )
            for k in range(months)
        )
    else:
        extra["retainer_fee"] = Money.of(value / months, ccy).rounded()
    return ContractForecastInput(
        id=cid,
        billing_model=model,
        currency=ccy,
        legal_entity=entity,
        service_line=rng.choice(LINES),
        value=Money.of(value, ccy),
        recognised_to_date=Money.of(value * max(0, -start) / months, ccy).rounded(),
        start_date=_month(AS_OF, start),
        end_date=_month(AS_OF, start + months - 1),
        **extra,
    )


def _opportunity(rng: random.Random, n: int) -> OpenOpportunity:
    entity = rng.choice(list(ENTITIES))
    return OpenOpportunity(
        id=f"opp{n:06d}",
        legal_entity=entity,
        service_line=rng.choice(LINES),
        stage=rng.choice(list(STAGES)),
        amount=Money.of(rng.randrange(20_000, 900_000), ENTITIES[entity]),
        expected_start=_month(AS_OF, rng.randrange(-1, 12)),
        duration_months=rng.randrange(3, 13),
    )


def _changed(inputs: ForecastInputs) -> ForecastInputs:
    """A re-run: one milestone slips two months, one opportunity is lost."""
    contracts = list(inputs.contracts)
    for i, c in enumerate(contracts):
        if c.milestones and not c.milestones[-1].recognised:
            slipped = c.milestones[-1].model_copy(
                update={"due_date": _month(c.milestones[-1].due_date.isoformat()[:7], 2)}
            )
            contracts[i] = c.model_copy(update={"milestones": (*c.milestones[:-1], slipped)})
            break
    return inputs.model_copy(
        update={"contracts": tuple(contracts), "opportunities": inputs.opportunities[1:]}
    )


def run(contracts: int, opportunities: int, horizon: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    inputs = build(contracts, opportunities, horizon, seed)
    t1 = time.perf_counter()
    data = forecast(inputs, AS_OF, horizon)
    t2 = time.perf_counter()
    snapshot = take_snapshot(data)
    t3 = time.perf_counter()
    again = take_snapshot(forecast(_changed(inputs), AS_OF, horizon), snapshot)
    t4 = time.perf_counter()
    movements = diff(snapshot, again)
    t5 = time.perf_counter()
    return {
        "benchmark": "forecast_model",
        "contracts": contracts,
        "opportunities": opportunities,
        "assignments": len(inputs.assignments),
        "capacity_rows": len(inputs.capacity),
        "horizon_months": horizon,
        "cells": len(data.cells),
        "lineage_entries": sum(len(c.lineage) for c in data.cells),
        "at_risk_cells": len(data.at_risk),
        "findings": len(data.findings),
        "movements": len(movements),
        "build_inputs_seconds": round(t1 - t0, 3),
        "forecast_seconds": round(t2 - t1, 3),
        "snapshot_seconds": round(t3 - t2, 3),
        "diff_seconds": round(t5 - t4, 3),
        "target_forecast_seconds": 10.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--opportunities", type=int, default=5_000)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    result = run(args.contracts, args.opportunities, args.months, args.seed)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
