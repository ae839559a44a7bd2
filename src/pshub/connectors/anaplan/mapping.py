"""Plain functions between pshub's values and Anaplan's files, dumps and task results.

The revenue forecast file has the columns of :data:`FORECAST_COLUMNS`; months use Anaplan's
default period labels (``Jan 25``) and amounts are written as exact decimals (no float).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from pshub.connectors.anaplan.results import RejectedRow
from pshub.domain.money import Money

FORECAST_COLUMNS = ("Snapshot", "Legal Entity", "Service Line", "Month", "Category", "Amount")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DUMP_META = ("_Status_", "_Line_", "_Error_1_")


def month_label(day: date) -> str:
    """Anaplan's default label of the month containing ``day`` (``Jan 25``)."""
    return f"{_MONTHS[day.month - 1]} {day.year % 100:02d}"


def amount_text(amount: Money) -> str:
    """The amount as plain decimal text, rounded to its currency's minor unit."""
    return format(amount.rounded().amount, "f")


def forecast_row(
    *,
    snapshot: str,
    legal_entity: str,
    service_line: str,
    month: date,
    category: str,
    amount: Money,
) -> dict[str, str]:
    """One row of the forecast file."""
    values = (snapshot, legal_entity, service_line, month_label(month), category)
    return {**dict(zip(FORECAST_COLUMNS, values, strict=False)), "Amount": amount_text(amount)}


def to_csv(rows: Iterable[Mapping[str, str]], columns: Sequence[str] = FORECAST_COLUMNS) -> bytes:
    """UTF-8 CSV with a header line, the columns in the given order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def from_csv(data: bytes | str) -> list[dict[str, str]]:
    """Rows of a CSV with a header line (an export's output)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]


def rejected_rows(dump: str) -> list[RejectedRow]:
    """Rows of an import failure dump: ``_Status_``, source columns, ``_Line_``, ``_Error_1_``."""
    rejected = []
    for record in from_csv(dump):
        line = record.get("_Line_") or "0"
        values = {k: v for k, v in record.items() if k not in _DUMP_META and k is not None}
        rejected.append(
            RejectedRow(
                row=int(line) if line.isdigit() else 0,
                reason=record.get("_Error_1_") or "rejected",
                values=values,
            )
        )
    return rejected


def row_counts(details: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The counts a task result reports in ``details[].values`` (name, value, name, ...)."""
    counts: dict[str, int] = {}
    for detail in details:
        values = [str(v) for v in detail.get("values") or []]
        for name, value in zip(values[::2], values[1::2], strict=False):
            if value.lstrip("-").isdigit():
                counts[name] = counts.get(name, 0) + int(value)
    return counts


def failure_message(details: Iterable[Mapping[str, Any]]) -> str:
    texts = [str(d.get("localMessageText") or "").strip() for d in details]
    return "; ".join(t for t in texts if t) or "the import task failed"


def split(data: bytes, size: int) -> list[bytes]:
    """``data`` in chunks of ``size`` bytes (at least one chunk, even when empty)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1 byte")
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]
