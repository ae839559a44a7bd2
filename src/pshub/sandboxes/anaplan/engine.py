"""Running a module import: parse the uploaded CSV, validate each row, plan the cell writes.

Pure functions, no I/O. A row is rejected (and goes to the failure dump) when a dimension value
is not an item of its list, a month label is not in the model's time dimension, or a line-item
value is not a number; good rows are imported even when others fail, as Anaplan does
("Import data into modules": rows with invalid identifiers are listed in the dump). Rows with
the same dimension values overwrite one another: the last one wins, and re-importing a file
rewrites the same cells instead of adding new ones.

The failure dump follows the vendor's description: CSV rows with ``_Status_``, the source
columns, ``_Line_`` (the line number in the file, the header being line 1) and ``_Error_1_``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pshub.sandboxes.anaplan.config import ModelSpec, ModuleSpec


@dataclass
class ImportPlan:
    """What an import task will do once it runs: cells to write, rows rejected, counts."""

    header: list[str] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    ok_rows: int = 0
    ignored: int = 0
    fatal: str | None = None  # the import could not run at all

    def as_dict(self) -> dict[str, Any]:
        return {
            "header": self.header,
            "cells": self.cells,
            "rejected": self.rejected,
            "ok_rows": self.ok_rows,
            "ignored": self.ignored,
            "fatal": self.fatal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportPlan:
        return cls(**data)


def plan_import(model: ModelSpec, module: ModuleSpec, content: bytes | None) -> ImportPlan:
    """Parse ``content`` (UTF-8 CSV, header on line 1) against the module's columns."""
    if content is None:
        return ImportPlan(
            fatal="The import data source file has not been uploaded (upload not complete)"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportPlan(fatal="The import data source file is not valid UTF-8")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return ImportPlan(fatal="The import data source file is empty")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in [*module.dimensions, *module.line_items] if c not in header]
    if missing:
        return ImportPlan(header=header, fatal=f"Source columns not found: {', '.join(missing)}")
    plan = ImportPlan(header=header)
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in row):
            plan.ignored += 1
            continue
        values = (row + [""] * len(header))[: len(header)]
        record = dict(zip(header, values, strict=True))
        reason = _row_error(model, module, record)
        if reason is not None:
            plan.rejected.append({"line": line, "values": values, "reason": reason})
            continue
        plan.ok_rows += 1
        dims = {d: record[d].strip() for d in module.dimensions}
        numbers = {li: _number(record[li]) for li in module.line_items}
        merged[tuple(dims.values())] = {"dimensions": dims, "values": numbers}
    plan.cells = list(merged.values())
    return plan


def _row_error(model: ModelSpec, module: ModuleSpec, record: dict[str, str]) -> str | None:
    for dim in module.dimensions:
        value = record[dim].strip()
        if dim == model.time_dimension:
            if value not in model.months:
                return f"Invalid time period for {dim}: {value!r} is not in the model calendar"
            continue
        items = model.lists.get(dim)
        if not value:
            return f"Blank item name for {dim}"
        if items is not None and value not in items:
            return f"Item not located in {dim} list: {value}"
    for item in module.line_items:
        raw = record[item].strip()
        if raw and _parse(raw) is None:
            return f"Invalid number for {item}: {raw!r}"
    return None


def _parse(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _number(raw: str) -> str:
    """The cell value kept as exact decimal text; a blank number imports as 0."""
    value = _parse(raw.strip()) if raw.strip() else Decimal(0)
    return format(value, "f")


def dump_csv(plan: ImportPlan) -> str | None:
    """The failure dump, or None when no row was rejected."""
    if not plan.rejected:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["_Status_", *plan.header, "_Line_", "_Error_1_"])
    for row in plan.rejected:
        writer.writerow(["E", *row["values"], row["line"], row["reason"]])
    return out.getvalue()


def result(plan: ImportPlan, import_id: str, module_name: str) -> dict[str, Any]:
    """The ``TaskResult`` of a finished import, with the row counts in ``details``."""
    if plan.fatal is not None:
        detail = {
            "localMessageText": plan.fatal,
            "occurrences": 1,
            "type": "importFailed",
            "values": [],
        }
        return {
            "successful": False,
            "failureDumpAvailable": False,
            "objectId": import_id,
            "details": [detail],
        }
    failed = len(plan.rejected)
    total = plan.ok_rows + failed + plan.ignored
    counts = {
        "successRowCount": plan.ok_rows,
        "failedCount": failed,
        "ignoredCount": plan.ignored,
        "totalRowCount": total,
        "updatedCount": len(plan.cells),
    }
    text = f"{module_name}: {plan.ok_rows} ({plan.ok_rows}/{total}) rows successful, "
    text += f"{failed} failed, {plan.ignored} ignored"
    values = ["moduleName", module_name]
    for name, count in counts.items():
        values += [name, str(count)]
    kind = "moduleRowsProcessedWithFailures" if failed else "moduleRowsProcessed"
    detail = {"localMessageText": text, "occurrences": 0, "type": kind, "values": values}
    return {
        "successful": failed == 0,
        "failureDumpAvailable": failed > 0,
        "objectId": import_id,
        "details": [detail],
    }


def export_csv(module: ModuleSpec, cells: list[dict[str, Any]]) -> bytes:
    """Every cell of the module as CSV: dimension columns then line items."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*module.dimensions, *module.line_items])
    for cell in cells:
        dims = [cell["dimensions"].get(d, "") for d in module.dimensions]
        writer.writerow([*dims, *(cell["values"].get(li, "0") for li in module.line_items)])
    return out.getvalue().encode("utf-8")
