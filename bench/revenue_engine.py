"""Throughput of the revenue engine: 10,000 varied contracts x 36 monthly periods.

Contracts are generated deterministically from ``--seed`` (mixes of the four methods, some
with variable consideration, re-estimates, modifications and extensions), given to the
engine as plain data (like a case file), validated into ``RevenueCase`` and run. Timings
are wall clock: ``seconds`` covers validation + ``run_contract``, ``engine_seconds`` only
``run_contract``; each is the best and the median of ``--repeat`` runs, on one process and
over a pool of ``--processes`` (each worker builds its share of the cases before the clock
starts). ``cpu_seconds`` is the process CPU time of the same work (the machine may be shared).
The generated inputs are long-lived, so they are moved out of the garbage collector's way
with ``gc.freeze()`` before the clock starts, as a batch job holding its inputs would
(``--no-freeze`` leaves them in). ``checksum`` (total recognised revenue) must agree
between the two. Prints figures, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import random
import statistics
import sys
import time
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from pshub.domain.revenue import RevenueCase, run_contract

PERIODS = [f"{2026 + m // 12}-{m % 12 + 1:02d}" for m in range(36)]
METHODS = ["percent_complete", "straight_line", "time_and_materials", "point_in_time"]
Case = dict[str, Any]


def _amount(rng: random.Random, low: int, high: int) -> str:
    """A money string with cents, between ``low`` and ``high`` whole units."""
    return str(Decimal(rng.randint(low * 100, high * 100)) / 100)


def _obligation(rng: random.Random, k: int, method: str) -> dict[str, Any]:
    ob: dict[str, Any] = {"id": f"o{k}", "method": method}
    ob["standalone_price"] = "0" if method == "time_and_materials" else _amount(rng, 5_000, 90_000)
    if method == "time_and_materials":
        ob["rate"] = rng.choice(["150", "175.50", "99.99", "220"])
    if method == "straight_line":
        start = rng.randint(0, 12)
        ob |= {"start": PERIODS[start], "end": PERIODS[rng.randint(start + 6, 35)]}
    return ob


def _variable(rng: random.Random) -> dict[str, Any]:
    p = rng.randint(1, 9)
    variable: dict[str, Any] = {
        "method": rng.choice(["expected_value", "most_likely_amount"]),
        "outcomes": [
            {"amount": _amount(rng, 1_000, 40_000), "probability": str(Decimal(p) / 10)},
            {"amount": "0", "probability": str(Decimal(10 - p) / 10)},
        ],
    }
    if rng.random() < 0.5:
        variable["constraint"] = _amount(rng, 0, 20_000)
    return variable


def _facts(rng: random.Random, idx: int, ob: dict[str, Any], plan: dict[str, Any]) -> list[Case]:
    """The facts of one obligation in period ``idx``."""
    period, name, method = PERIODS[idx], ob["id"], ob["method"]
    if method == "percent_complete" and idx < plan["pc_end"]:
        row: Case = {"period": period, "obligation": name}
        row["cost_incurred"] = str(rng.randint(500, 9_000))
        if idx == 0 or rng.random() < 0.1:
            row["estimated_total_cost"] = str(rng.randint(60_000, 200_000))
        if rng.random() < 0.05:
            row["excluded_cost"] = str(rng.randint(0, 400))
        return [row]
    if method == "time_and_materials" and rng.random() < 0.8:
        return [{"period": period, "obligation": name, "hours": str(rng.randint(1, 160))}]
    if method == "point_in_time" and idx == plan["golive"].get(name):
        return [{"period": period, "obligation": name, "satisfied": True}]
    return []


def _modification(rng: random.Random, idx: int, obligations: list[dict[str, Any]]) -> Case:
    distinct, at_ssp = rng.random() < 0.6, rng.random() < 0.5
    mod: dict[str, Any] = {
        "price_change": _amount(rng, 1_000, 30_000),
        "distinct": distinct,
        "at_standalone_price": at_ssp,
        "add_obligations": [
            {"id": f"m{idx}", "method": "point_in_time", "standalone_price": "12000"}
        ],
    }
    lines = [o for o in obligations if o["method"] == "straight_line"]
    if lines and not (distinct and at_ssp) and rng.random() < 0.7:
        mod["extend"] = {lines[0]["id"]: PERIODS[rng.randint(max(idx, 30), 35)]}
    return {"period": PERIODS[idx], "modification": mod}


def make_case(rng: random.Random) -> Case:
    """One valid contract of 36 monthly periods with 1-4 obligations and monthly activity."""
    count = rng.choice([1, 2, 3, 4, 4, 4])
    methods = [rng.choice(METHODS[:2] + METHODS[3:])]  # the first one shares the price
    methods += [rng.choice(METHODS) for _ in range(count - 1)]
    obligations = [_obligation(rng, k, m) for k, m in enumerate(methods)]
    contract: dict[str, Any] = {"price": _amount(rng, 20_000, 250_000), "obligations": obligations}
    if rng.random() < 0.3:
        contract["variable"] = _variable(rng)
    plan = {
        "pc_end": rng.randint(12, 36),
        "golive": {o["id"]: rng.randint(0, 40) for o in obligations},
        "modified": rng.randint(6, 30) if rng.random() < 0.2 else -1,
        "reestimate": rng.randint(3, 33) if "variable" in contract else -1,
    }
    activity: list[Case] = []
    for idx, period in enumerate(PERIODS):
        if idx == plan["modified"]:
            activity.append(_modification(rng, idx, obligations))
        if idx == plan["reestimate"]:
            activity.append({"period": period, "variable": _variable(rng)})
        for ob in obligations:
            activity.extend(_facts(rng, idx, ob, plan))
        if idx % rng.choice([1, 1, 3]) == 0:
            activity.append({"period": period, "billed": _amount(rng, 0, 12_000)})
        if rng.random() < 0.7:
            activity.append({"period": period, "collected": _amount(rng, 0, 9_000)})
    currency = rng.choice(["USD", "USD", "EUR", "GBP"])
    return {"currency": currency, "periods": PERIODS, "contract": contract, "activity": activity}


def make_cases(seed: int, start: int, stop: int) -> list[Case]:
    """Cases ``start..stop-1`` of the sequence for ``seed`` (each case has its own stream)."""
    return [make_case(random.Random(f"{seed}:{n}")) for n in range(start, stop)]


Run = tuple[float, float, float, Decimal]  # wall, engine-only wall, CPU seconds, checksum


def run_cases(cases: list[Case]) -> Run:
    """Validate and run every case; timings and total recognised revenue."""
    cpu, started = time.process_time(), time.perf_counter()
    engine = 0.0
    checksum = Decimal(0)
    for data in cases:
        case = RevenueCase.model_validate(data)
        t = time.perf_counter()
        result = run_contract(case)
        engine += time.perf_counter() - t
        checksum += result.periods[-1].cumulative_revenue.amount
    return time.perf_counter() - started, engine, time.process_time() - cpu, checksum


def _worker(seed: int, start: int, stop: int, freeze: bool, ready: Any, out: Connection) -> None:
    cases = make_cases(seed, start, stop)
    if freeze:
        gc.freeze()
    ready.wait()  # every worker has its cases: the clock starts now
    wall, engine, cpu, checksum = run_cases(cases)
    out.send((wall, engine, cpu, str(checksum)))
    out.close()


def run_pool(seed: int, contracts: int, processes: int, freeze: bool) -> Run:
    """Wall clock of ``processes`` workers sharing the contracts (after they built them)."""
    ctx = mp.get_context("fork")
    ready = ctx.Barrier(processes + 1)
    bounds = [contracts * k // processes for k in range(processes + 1)]
    pipes = [ctx.Pipe(duplex=False) for _ in range(processes)]
    workers = [
        ctx.Process(
            target=_worker, args=(seed, bounds[k], bounds[k + 1], freeze, ready, pipes[k][1])
        )
        for k in range(processes)
    ]
    for w in workers:
        w.start()
    ready.wait()
    started = time.perf_counter()
    results = [receiver.recv() for receiver, _ in pipes]
    wall = time.perf_counter() - started
    for w in workers:
        w.join()
    engine = max(r[1] for r in results)  # the slowest worker's engine time
    cpu = sum(r[2] for r in results)
    return wall, engine, cpu, sum((Decimal(r[3]) for r in results), Decimal(0))


def _figures(runs: list[Run], contracts: int) -> dict[str, Any]:
    walls, engines, cpus = [r[0] for r in runs], [r[1] for r in runs], [r[2] for r in runs]
    return {
        "seconds": round(min(walls), 3),
        "seconds_median": round(statistics.median(walls), 3),
        "ms_per_contract": round(min(walls) / contracts * 1000, 4),
        "ms_per_contract_median": round(statistics.median(walls) / contracts * 1000, 4),
        "engine_seconds": round(min(engines), 3),
        "engine_ms_per_contract": round(min(engines) / contracts * 1000, 4),
        "cpu_seconds": round(min(cpus), 3),
        "checksum": str(runs[0][3]),
    }


def bench(seed: int, contracts: int, processes: int, repeat: int, freeze: bool) -> dict[str, Any]:
    cases = make_cases(seed, 0, contracts)
    if freeze:
        gc.freeze()
    single = [run_cases(cases) for _ in range(repeat)]
    pooled = [run_pool(seed, contracts, processes, freeze) for _ in range(repeat)]
    return {
        "bench": "revenue_engine",
        "contracts": contracts,
        "periods": len(PERIODS),
        "activity_rows": sum(len(c["activity"]) for c in cases),
        "repeat": repeat,
        "gc_freeze": freeze,
        **_figures(single, contracts),
        "pool": {"processes": processes, **_figures(pooled, contracts)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=606)
    parser.add_argument("--no-freeze", action="store_true", help="leave inputs to the GC")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = bench(args.seed, args.contracts, args.processes, args.repeat, not args.no_freeze)
    if args.json:
        print(json.dumps(figures))
        return 0
    pool = figures["pool"]
    print(
        f"{figures['contracts']} contracts x {figures['periods']} periods "
        f"({figures['activity_rows']} activity rows)\n"
        f"1 process : {figures['seconds']} s best, {figures['seconds_median']} s median "
        f"({figures['ms_per_contract']} ms/contract; engine only {figures['engine_seconds']} s; "
        f"CPU {figures['cpu_seconds']} s)\n"
        f"{pool['processes']} processes: {pool['seconds']} s best, {pool['seconds_median']} s "
        f"median ({pool['ms_per_contract']} ms/contract)"
    )
    return 0 if figures["checksum"] == pool["checksum"] else 1


if __name__ == "__main__":
    sys.exit(main())
