"""The warehouse export: cells and lineage as CSV and Parquet, amounts exact."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from pshub.domain.forecast import forecast, take_snapshot
from pshub.forecast_outputs import export_files
from tests.unit.forecast.example import worked_example


def test_a_snapshot_exports_to_csv_and_parquet_with_exact_amounts(tmp_path: Path) -> None:
    snapshot = take_snapshot(forecast(worked_example(), "2025-03", 3))
    written = export_files(snapshot, tmp_path)
    assert sorted(p.suffix for p in written) == [".csv", ".csv", ".parquet", ".parquet"]
    cells_csv = next(p for p in written if p.name.endswith("cells.csv"))
    cells_parquet = next(p for p in written if p.name.endswith("cells.parquet"))
    with cells_csv.open() as fh:
        from_csv = [Decimal(row["amount"]) for row in csv.DictReader(fh)]
    from_parquet = pq.read_table(cells_parquet).column("amount").to_pylist()
    expected = [cell.amount.amount for cell in snapshot.data.cells]
    assert from_csv == expected
    assert [Decimal(v) for v in from_parquet] == expected  # decimal128, never a float
    lineage = pq.read_table(next(p for p in written if p.name.endswith("lineage.parquet")))
    assert sum(lineage.column("amount").to_pylist(), Decimal(0)) == sum(expected, Decimal(0))
