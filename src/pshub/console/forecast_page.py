"""Console page: the revenue forecast (a stored snapshot) and the lineage of one of its cells.

``/console/forecast`` shows a snapshot (the latest, or ``?version=N``): the stacked chart of
actuals, backlog and weighted pipeline per currency, the month x legal entity x service line
table per currency (never converted: no FX mixing on screen), revenue at risk from unstaffed
demand, the movements against the previous version grouped by cause, and the backtest over
the stored history. ``/console/forecast/cell`` lists the lineage of one cell beside its value.

Read side only (``read`` scope). Figures stay ``Decimal`` from the stored JSON to the
template's ``money`` filter; only the chart, drawn by :func:`forecast_outputs.chart_svg`,
scales bars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session

from pshub import forecast_outputs
from pshub.bootstrap import Container
from pshub.console.pages import Reader, render
from pshub.domain.forecast import (
    AtRiskCell,
    BacktestResult,
    Category,
    CellKey,
    ForecastSnapshot,
    LineageEntry,
    Movement,
    add_months,
    backtest,
    diff,
    totals_by_cause,
)
from pshub.domain.forecast.snapshots import Cause
from pshub.forecast_inputs import gather_actuals
from pshub.store import forecast_tables as store
from pshub.store.forecast_tables import ForecastSnapshotRow

ZERO = Decimal(0)
CATEGORIES = tuple(Category)
MOVEMENTS_LISTED = 25  # per cause and currency; the net delta covers every movement
VERSIONS_LISTED = 100
CAUSE_LABELS = {
    Cause.NEW_DEAL: "New deal",
    Cause.OPPORTUNITY_CLOSED: "Opportunity lost or closed",
    Cause.SLIPPED_MILESTONE: "Slipped milestone",
    Cause.CHANGE_ORDER: "Change order",
    Cause.ACTUALS_LANDED: "Actuals landed",
    Cause.CONTRACT_ENDED: "Contract ended",
    Cause.HORIZON_EXTENDED: "Horizon extended",
    Cause.RE_ESTIMATE: "Re-estimate",
}


@dataclass(frozen=True)
class GridRow:
    """One month x legal entity x service line of one currency: the three categories."""

    month: str
    legal_entity: str
    service_line: str
    amounts: dict[Category, Decimal]  # only the categories that have a cell
    links: dict[Category, str]  # lineage drill-down of each cell

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


@dataclass
class CurrencyBlock:
    currency: str
    chart: Markup
    rows: list[GridRow]
    totals: dict[Category, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


@dataclass
class CauseGroup:
    """Net movement of one cause in one currency, with its largest movements."""

    cause: Cause
    currency: str
    delta: Decimal
    count: int
    movements: list[Movement] = field(default_factory=list)

    @property
    def label(self) -> str:
        return CAUSE_LABELS.get(self.cause, self.cause.value.replace("_", " "))


@dataclass
class Accuracy:
    closed_through: str
    snapshots: int
    result: BacktestResult


@dataclass
class ForecastView:
    snapshot: ForecastSnapshot
    row: ForecastSnapshotRow
    previous_version: int | None
    blocks: list[CurrencyBlock]
    at_risk: list[AtRiskCell]
    at_risk_totals: dict[str, Decimal]
    causes: list[CauseGroup]
    accuracy: Accuracy | None
    versions: Sequence[ForecastSnapshotRow]


# --- assembling the page ---------------------------------------------------------------------


def cell_url(version: int, key: CellKey) -> str:
    query = {
        "version": version,
        "legal_entity": key.legal_entity,
        "service_line": key.service_line,
        "currency": key.currency,
        "month": key.month,
        "category": key.category.value,
    }
    return f"/console/forecast/cell?{urlencode(query)}"


def currency_blocks(snapshot: ForecastSnapshot) -> list[CurrencyBlock]:
    """Per currency: the chart and the month x entity x service line rows (as ``show``)."""
    grid: dict[str, dict[tuple[str, str, str], dict[Category, Decimal]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for cell in snapshot.data.cells:
        row = grid[cell.amount.currency][(cell.month, cell.legal_entity, cell.service_line)]
        row[cell.category] = row.get(cell.category, ZERO) + cell.amount.amount
    blocks = []
    for currency in sorted(grid):
        rows = [
            _grid_row(snapshot.version, currency, k, v) for k, v in sorted(grid[currency].items())
        ]
        totals = {c: sum((r.amounts.get(c, ZERO) for r in rows), ZERO) for c in CATEGORIES}
        chart = Markup(forecast_outputs.chart_svg(snapshot, currency))  # noqa: S704 - escaped there
        blocks.append(CurrencyBlock(currency, chart, rows, totals))
    return blocks


def _grid_row(
    version: int, currency: str, key: tuple[str, str, str], amounts: dict[Category, Decimal]
) -> GridRow:
    month, entity, line = key
    links = {c: cell_url(version, CellKey(entity, line, currency, month, c)) for c in amounts}
    return GridRow(month, entity, line, amounts, links)


def at_risk(snapshot: ForecastSnapshot) -> tuple[list[AtRiskCell], dict[str, Decimal]]:
    """The at-risk cells with unstaffed demand, and their total per currency."""
    cells = [r for r in snapshot.data.at_risk if r.unstaffed_hours > 0 or r.amount.amount != 0]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in cells:
        totals[r.amount.currency] += r.amount.amount
    return cells, dict(sorted(totals.items()))


def cause_groups(movements: list[Movement]) -> list[CauseGroup]:
    """Movements grouped by (cause, currency), largest first within a group."""
    members: dict[tuple[Cause, str], list[Movement]] = defaultdict(list)
    for m in movements:
        members[(m.cause, m.before.currency)].append(m)
    groups = []
    for (cause, currency), net in totals_by_cause(movements).items():
        found = members[(cause, currency)]
        found.sort(key=lambda m: (-abs(m.after.amount - m.before.amount), m.source_id))
        groups.append(CauseGroup(cause, currency, net.amount, len(found), found[:MOVEMENTS_LISTED]))
    return groups


def accuracy(s: Session) -> Accuracy | None:
    """The backtest over every stored snapshot, as ``pshub forecast backtest`` computes it:
    closed through the month before the latest as-of month, against recognised revenue."""
    snapshots = store.all_snapshots(s)
    if len(snapshots) < 2:
        return None  # one snapshot forecasts only open months: nothing to measure yet
    latest = max(snapshots, key=lambda x: x.version)
    closed = add_months(latest.data.as_of_month, -1)
    result = backtest(snapshots, gather_actuals(s, latest.data.as_of_month), closed_through=closed)
    return Accuracy(closed, len(snapshots), result) if result.by_horizon else None


def load_view(s: Session, version: int | None) -> ForecastView | None:
    """The page's data for ``version`` (the latest when None); None when none is stored."""
    snapshot = store.load_snapshot(s, version)
    if snapshot is None:
        return None
    row = s.get(ForecastSnapshotRow, snapshot.version)
    assert row is not None  # just loaded from this row
    previous = store.load_snapshot(s, snapshot.version - 1) if snapshot.version > 1 else None
    movements = diff(previous, snapshot) if previous is not None else []
    cells, totals = at_risk(snapshot)
    return ForecastView(
        snapshot=snapshot,
        row=row,
        previous_version=None if previous is None else previous.version,
        blocks=currency_blocks(snapshot),
        at_risk=cells,
        at_risk_totals=totals,
        causes=cause_groups(movements),
        accuracy=accuracy(s),
        versions=store.snapshot_rows(s, VERSIONS_LISTED),
    )


def cell_lineage(snapshot: ForecastSnapshot, key: CellKey) -> tuple[Decimal, list[LineageEntry]]:
    """The cell's amount and its lineage entries (sorted by source); 404 when it has none."""
    cells = [c for c in snapshot.data.cells if c.key == key]
    if not cells:
        raise HTTPException(404, f"snapshot v{snapshot.version} has no cell {'/'.join(key)}")
    entries = sorted(
        (e for c in cells for e in c.lineage), key=lambda e: (e.source_kind.value, e.source_id)
    )
    return sum((c.amount.amount for c in cells), ZERO), entries


# --- routes ----------------------------------------------------------------------------------


def forecast_router(c: Container, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(prefix="/console/forecast", include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    def forecast_page(
        request: Request,
        who: Reader,
        version: Annotated[int | None, Query(ge=1)] = None,
    ) -> HTMLResponse:
        with c.db.session() as s:
            view = load_view(s, version)
        if view is None and version is not None:
            raise HTTPException(404, f"forecast snapshot v{version} does not exist")
        return render(
            templates, request, who, "forecast.html",
            view=view, categories=CATEGORIES, label=_label(view),
        )  # fmt: skip

    @router.get("/cell", response_class=HTMLResponse)
    def forecast_cell(
        request: Request,
        who: Reader,
        version: Annotated[int, Query(ge=1)],
        legal_entity: str,
        service_line: str,
        currency: str,
        month: str,
        category: Category,
    ) -> HTMLResponse:
        with c.db.session() as s:
            snapshot = store.load_snapshot(s, version)
        if snapshot is None:
            raise HTTPException(404, f"forecast snapshot v{version} does not exist")
        key = CellKey(legal_entity, service_line, currency.upper(), month, category)
        value, entries = cell_lineage(snapshot, key)
        listed = sum((e.amount.amount for e in entries), ZERO)
        return render(
            templates, request, who, "forecast_cell.html",
            snapshot=snapshot, key=key, value=value, entries=entries, listed=listed,
            difference=listed - value,
        )  # fmt: skip

    return router


def _label(view: ForecastView | None) -> str:
    return "" if view is None else forecast_outputs.label_of(view.snapshot)
