"""Run every benchmark, one after the other, and print its figures.

With ``--json`` each benchmark prints one JSON object (one line each); ``--quick`` runs them
at a tenth of their size (a smoke run, not the figures to quote). Each runs in its own
process so one's memory and garbage do not weigh on the next.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PSHUB = [sys.executable, "-m", "pshub.cli"]
DRAIN = ["--concurrency", "5", "--latency-ms", "50"]


def _benchmarks(quick: bool) -> list[tuple[str, list[str]]]:
    entries = "10000" if quick else "100000"
    return [
        ("deal latency", [sys.executable, "bench/deal_latency.py"]),
        (
            "time to bill: overhead",
            [*PSHUB, "bench", "overhead", "--entries", entries],
        ),
        (
            "time to bill: drain",
            [*PSHUB, "bench", "drain", "--entries", entries, *DRAIN],
        ),
        (
            "netsuite records",
            [sys.executable, "bench/netsuite_records.py"]
            + (["--records", "2000"] if quick else []),
        ),
        (
            "revenue engine",
            [sys.executable, "bench/revenue_engine.py", "--repeat", "1"]
            + (["--contracts", "1000"] if quick else []),
        ),
        (
            "month-end close",
            [sys.executable, "bench/close.py"] + (["--contracts", "1000"] if quick else []),
        ),
        (
            "forecast model",
            [sys.executable, "bench/forecast_model.py"]
            + (["--contracts", "1000", "--opportunities", "500"] if quick else []),
        ),
    ]


def main(argv: list[str]) -> int:
    as_json, quick = "--json" in argv, "--quick" in argv
    failed = 0
    for name, command in _benchmarks(quick):
        if not as_json:
            print(f"== {name}", flush=True)
        done = subprocess.run(
            command + (["--json"] if as_json else []), cwd=ROOT, check=False, text=True
        )
        if done.returncode != 0:
            failed += 1
            print(f"{name}: exit {done.returncode}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
