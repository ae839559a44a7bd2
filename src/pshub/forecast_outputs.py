"""What a forecast snapshot becomes outside the hub: Anaplan rows, warehouse files, a chart.

- :func:`anaplan_rows`: one row per (legal entity, service line, month, category) in the
  entity's currency (the FP&A module has no currency dimension; other currencies are
  converted with ``fx_rates.yaml`` at the rate on the first day of the month; a cell with no
  rate is a finding and left out). Rows are labelled with the snapshot's label, so a second
  publish of the same snapshot rewrites the same cells.
- :func:`export_files`: cells and lineage as CSV and as Parquet (``pyarrow``), for a
  warehouse; amounts are exact decimals in both.
- :func:`chart_svg` / :func:`chart_png`: actuals, backlog and weighted pipeline stacked by
  month for one currency (SVG written by hand; PNG needs ``matplotlib``).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from pshub.connectors.anaplan import mapping
from pshub.domain.billing import FxRates
from pshub.domain.findings import Finding, Severity
from pshub.domain.forecast import Category, ForecastSnapshot
from pshub.domain.money import Money

COLOURS = {Category.ACTUAL: "#2f6f4f", Category.BACKLOG: "#3b6ea8", Category.PIPELINE: "#e0a33a"}


def label_of(snapshot: ForecastSnapshot) -> str:
    """The Snapshot list item in FP&A: version and content id (``v3-fcs_…``)."""
    return f"v{snapshot.version}-{snapshot.id}"


@dataclass(frozen=True)
class AnaplanRow:
    line: int  # the line in the file (the header is line 1), as the failure dump names it
    legal_entity: str
    service_line: str
    month: str
    category: str
    amount: Money

    def describe(self) -> str:
        return f"{self.legal_entity} / {self.service_line} / {self.month} / {self.category}"


def anaplan_rows(
    snapshot: ForecastSnapshot,
    categories: dict[str, str],
    entity_currency: dict[str, str],
    fx: FxRates,
) -> tuple[list[AnaplanRow], list[Finding]]:
    """The snapshot's cells summed per Anaplan cell, in each legal entity's currency."""
    sums: dict[tuple[str, str, str, str], Money] = {}
    findings: list[Finding] = []
    for cell in snapshot.data.cells:
        target = entity_currency.get(cell.legal_entity, cell.amount.currency)
        value = fx.convert(cell.amount, target, date.fromisoformat(f"{cell.month}-01"))
        if value is None:
            findings.append(_no_rate(cell.amount, target, cell.month, cell.legal_entity))
            continue
        key = (cell.legal_entity, cell.service_line, cell.month, categories[cell.category.value])
        sums[key] = sums[key] + value if key in sums else value
    rows = [
        AnaplanRow(line, *key, amount)
        for line, (key, amount) in enumerate(sorted(sums.items()), start=2)
    ]
    return rows, findings


def anaplan_csv(rows: list[AnaplanRow], label: str) -> bytes:
    return mapping.to_csv(
        mapping.forecast_row(
            snapshot=label,
            legal_entity=r.legal_entity,
            service_line=r.service_line,
            month=date.fromisoformat(f"{r.month}-01"),
            category=r.category,
            amount=r.amount,
        )
        for r in rows
    )


def _no_rate(amount: Money, target: str, month: str, entity: str) -> Finding:
    return Finding(
        code="fx_rate_missing",
        message=f"no {amount.currency}/{target} rate for {month}: {entity} cell not published",
        severity=Severity.ERROR,
        record=f"{entity}:{month}",
        amount=amount,
    )


# --- warehouse export ------------------------------------------------------------------------

CELL_COLUMNS = (
    "snapshot_id",
    "version",
    "as_of_month",
    "legal_entity",
    "service_line",
    "currency",
    "month",
    "category",
    "amount",
)
LINEAGE_COLUMNS = (*CELL_COLUMNS[:8], "source_kind", "source_id", "amount", "refs")


def cell_records(snapshot: ForecastSnapshot) -> list[tuple[str, ...]]:
    head = (snapshot.id, str(snapshot.version), snapshot.data.as_of_month)
    return [(*head, *cell.key, str(cell.amount.amount)) for cell in snapshot.data.cells]


def lineage_records(snapshot: ForecastSnapshot) -> list[tuple[str, ...]]:
    head = (snapshot.id, str(snapshot.version), snapshot.data.as_of_month)
    return [
        (*head, *cell.key, e.source_kind.value, e.source_id, str(e.amount.amount), " ".join(e.refs))
        for cell in snapshot.data.cells
        for e in cell.lineage
    ]


def export_files(snapshot: ForecastSnapshot, directory: Path) -> list[Path]:
    """Write ``<label>-cells`` and ``<label>-lineage`` as CSV (and Parquet when possible)."""
    directory.mkdir(parents=True, exist_ok=True)
    label = label_of(snapshot)
    tables = {
        "cells": (CELL_COLUMNS, cell_records(snapshot)),
        "lineage": (LINEAGE_COLUMNS, lineage_records(snapshot)),
    }
    written = []
    for name, (columns, records) in tables.items():
        path = directory / f"{label}-{name}.csv"
        path.write_bytes(_csv(columns, records))
        written.append(path)
        parquet = _parquet(directory / f"{label}-{name}.parquet", columns, records)
        if parquet is not None:
            written.append(parquet)
    return written


def _csv(columns: tuple[str, ...], records: list[tuple[str, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(records)
    return out.getvalue().encode("utf-8")


def _parquet(path: Path, columns: tuple[str, ...], records: list[tuple[str, ...]]) -> Path | None:
    """Parquet with exact decimal amounts (decimal128, never float)."""
    import pyarrow as pa  # imported here: a second of start-up the other commands do not need
    import pyarrow.parquet as pq

    amount = pa.decimal128(20, 4)
    arrays = []
    fields = []
    for i, name in enumerate(columns):
        values: list[object] = [r[i] for r in records]
        if name == "amount":
            arrays.append(pa.array([Decimal(str(v)) for v in values], type=amount))
            fields.append(pa.field(name, amount))
        elif name == "version":
            arrays.append(pa.array([int(str(v)) for v in values], type=pa.int32()))
            fields.append(pa.field(name, pa.int32()))
        else:
            arrays.append(pa.array(values, type=pa.string()))
            fields.append(pa.field(name, pa.string()))
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), str(path))
    return path


# --- chart -----------------------------------------------------------------------------------


def stacked(snapshot: ForecastSnapshot, currency: str) -> list[tuple[str, dict[Category, Decimal]]]:
    """Per month (closed months first, then the horizon): amount per category."""
    months: dict[str, dict[Category, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for cell in snapshot.data.cells:
        if cell.amount.currency == currency:
            months[cell.month][cell.category] += cell.amount.amount
    return [(m, dict(months[m])) for m in sorted(months)]


def main_currency(snapshot: ForecastSnapshot) -> str:
    """The currency with the largest total (the default chart)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for cell in snapshot.data.cells:
        totals[cell.amount.currency] += abs(cell.amount.amount)
    return max(sorted(totals), key=lambda c: totals[c]) if totals else "USD"


def chart_svg(snapshot: ForecastSnapshot, currency: str, width: int = 900) -> str:
    """A stacked bar chart (actual, backlog, pipeline) per month as a standalone SVG."""
    data = stacked(snapshot, currency)
    height, left, bottom, top = 360, 80, 60, 40
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max((sum(v.values(), Decimal(0)) for _, v in data), default=Decimal(0)) or Decimal(1)
    bar = plot_w / max(len(data), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>Revenue forecast {escape(label_of(snapshot))} ({currency})</title>",
        f'<text x="{left}" y="20" font-size="14">Revenue by month, {currency} — as of '
        f"{snapshot.data.as_of_month}, snapshot v{snapshot.version}</text>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#444"/>',
    ]
    for k in range(5):
        value = peak * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>'
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    for i, (month, values) in enumerate(data):
        parts.extend(_bar(month, values, left + i * bar, bar, top + plot_h, plot_h, peak))
    for i, category in enumerate(Category):
        x = left + i * 110
        parts.append(
            f'<rect x="{x}" y="{height - 22}" width="12" height="12" '
            f'fill="{COLOURS[category]}"/><text x="{x + 16}" y="{height - 12}">'
            f"{category.value}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _bar(
    month: str,
    values: dict[Category, Decimal],
    x: float,
    width: float,
    base: float,
    plot_h: float,
    peak: Decimal,
) -> list[str]:
    out = []
    y = base
    for category in Category:
        amount = values.get(category, Decimal(0))
        if amount <= 0:
            continue
        h = float(amount / peak) * plot_h
        y -= h
        out.append(
            f'<rect x="{x + width * 0.15:.1f}" y="{y:.1f}" width="{width * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[category]}"><title>{month} {category.value}: '
            f"{amount:,f}</title></rect>"
        )
    out.append(
        f'<text x="{x + width / 2:.1f}" y="{base + 14}" text-anchor="middle">{month[2:]}</text>'
    )
    return out


def chart_png(snapshot: ForecastSnapshot, currency: str, path: Path) -> None:
    """The same chart as PNG; needs ``matplotlib`` (not a pshub dependency)."""
    try:
        import matplotlib  # type: ignore[import-not-found,unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise RuntimeError("PNG charts need matplotlib (pip install matplotlib); use .svg") from exc
    data = stacked(snapshot, currency)
    months = [m for m, _ in data]
    fig, ax = plt.subplots(figsize=(10, 4))
    bottom = [0.0] * len(months)
    for category in Category:
        # Plotting needs floats; the figures printed and exported stay Decimal.
        heights = [float(v.get(category, Decimal(0))) for _, v in data]
        ax.bar(months, heights, bottom=bottom, color=COLOURS[category], label=category.value)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title(f"Revenue by month, {currency} (as of {snapshot.data.as_of_month})")
    ax.legend()
    fig.autofmt_xdate()
    fig.savefig(str(path))
    plt.close(fig)
