"""`pshub forecast ...`: run and publish the revenue forecast, show it, backtest it, chart it.

``run`` starts the hub's DBOS runtime (the flow is durable); ``show``, ``backtest`` and
``chart`` only read the stored snapshots.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pshub.settings import Settings

app = typer.Typer(help="Revenue forecast: run, show, backtest, chart.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Where state is kept.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Version = Annotated[int | None, typer.Option(help="Snapshot version (default: the latest).")]


@app.callback()
def _main() -> None:
    """Revenue forecast: run, show, backtest, chart."""


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    return settings if data_dir is None else settings.model_copy(update={"data_dir": data_dir})


def _database(data_dir: Path | None) -> Any:
    from pshub.store.db import Database

    return Database(_settings(data_dir).resolved_database_url())


def _snapshot(data_dir: Path | None, version: int | None) -> Any:
    from pshub.store import forecast_tables as store

    db = _database(data_dir)
    try:
        with db.session() as s:
            snapshot = store.load_snapshot(s, version)
    finally:
        db.dispose()
    if snapshot is None:
        err.print("no forecast snapshot yet: run `pshub forecast run` first")
        raise typer.Exit(1)
    return snapshot


@app.command()
def run(
    as_of: Annotated[str | None, typer.Option(help="First open month YYYY-MM.")] = None,
    horizon: Annotated[int | None, typer.Option(help="Months forecast.")] = None,
    publish: Annotated[bool, typer.Option(help="Publish to Anaplan.")] = True,
    republish: Annotated[bool, typer.Option(help="Upload even if published.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Forecast from the hub's data, store the snapshot, publish it to FP&A, export it."""
    from pshub import bootstrap
    from pshub.flows import forecast as flow

    c = bootstrap.build(_settings(data_dir))
    bootstrap.launch(c)
    try:
        run_id = f"cli:{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        result = flow.run(
            flow.PublishForecastInput(
                run_id=run_id,
                as_of_month=as_of,
                horizon_months=horizon,
                publish=publish,
                republish=republish,
            )
        )
    finally:
        bootstrap.shutdown(c)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    out.print(
        f"snapshot {result.get('label')} as of {result.get('as_of_month')}: "
        f"{result.get('cells')} cells, {result.get('movements')} movements, "
        f"{'new version' if result.get('changed') else 'unchanged'}"
    )
    published = result.get("published") or {}
    if published:
        out.print(f"Anaplan: {published.get('status')} ({published.get('rows', '-')} rows)")
        for r in published.get("rejected", []):
            err.print(f"[red]rejected[/] {r['reason']}")
    if result.get("status") != "completed":
        err.print(f"[red]{result.get('status')}[/] {result.get('reason', '')}")
        raise typer.Exit(1)


@app.command()
def show(
    version: Version = None,
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    data_dir: DataDir = None,
) -> None:
    """The snapshot as a table: per month, entity and service line, the three categories."""
    snapshot = _snapshot(data_dir, version)
    data = snapshot.data
    rows: dict[tuple[str, str, str, str], dict[str, Decimal]] = defaultdict(dict)
    for cell in data.cells:
        if currency in (None, cell.amount.currency):
            key = (cell.month, cell.legal_entity, cell.service_line, cell.amount.currency)
            rows[key][cell.category.value] = cell.amount.amount
    table = Table(title=f"Forecast v{snapshot.version} {snapshot.id} as of {data.as_of_month}")
    for col in ("month", "entity", "service line", "ccy"):
        table.add_column(col)
    for col in ("actual", "backlog", "pipeline", "total"):
        table.add_column(col, justify="right")
    for key in sorted(rows):
        values = rows[key]
        amounts = [values.get(c) for c in ("actual", "backlog", "pipeline")]
        total = sum((a for a in amounts if a is not None), Decimal(0))
        table.add_row(*key, *("" if a is None else f"{a:,f}" for a in amounts), f"{total:,f}")
    out.print(table)
    out.print(f"{len(data.findings)} finding(s); every cell's lineage is in the CSV export")
    for f in data.findings[:20]:
        out.print(f"  · {f.code}: {f.message}")


@app.command()
def backtest(
    closed_through: Annotated[
        str | None, typer.Option(help="Last closed month (default: before the latest as-of).")
    ] = None,
    by_segment: Annotated[bool, typer.Option(help="Per legal entity and service line.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """For each closed month, the forecast made N months before vs revenue recognised."""
    from pshub.domain.forecast import add_months, format_backtest
    from pshub.domain.forecast import backtest as measure
    from pshub.forecast_inputs import gather_actuals
    from pshub.store import forecast_tables as store

    db = _database(data_dir)
    try:
        with db.session() as s:
            snapshots = store.all_snapshots(s)
            if not snapshots:
                err.print("no forecast snapshot yet: run `pshub forecast run` first")
                raise typer.Exit(1)
            latest = max(snapshots, key=lambda x: x.version)
            closed = closed_through or add_months(latest.data.as_of_month, -1)
            actuals = gather_actuals(s, add_months(closed, 1))
    finally:
        db.dispose()
    result = measure(
        snapshots, actuals, closed_through=closed, by_entity_and_service_line=by_segment
    )
    if as_json:
        body = {
            "closed_through": closed,
            "snapshots": len(snapshots),
            "points": len(result.points),
            "by_horizon": [h.model_dump(mode="json") for h in result.by_horizon],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    out.print(f"backtest through {closed}: {len(snapshots)} snapshots, {len(result.points)} points")
    for line in format_backtest(result):
        out.print(line)


@app.command()
def chart(
    out_file: Annotated[Path, typer.Option("--out", help="FILE.svg or FILE.png")],
    version: Version = None,
    currency: Annotated[str | None, typer.Option(help="Currency (default: largest).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Actuals, backlog and weighted pipeline stacked by month, as SVG (or PNG)."""
    from pshub import forecast_outputs

    snapshot = _snapshot(data_dir, version)
    ccy = currency or forecast_outputs.main_currency(snapshot)
    suffix = out_file.suffix.lower()
    if suffix == ".svg":
        out_file.write_text(forecast_outputs.chart_svg(snapshot, ccy))
    elif suffix == ".png":
        try:
            forecast_outputs.chart_png(snapshot, ccy, out_file)
        except RuntimeError as exc:
            err.print(f"[red]error[/] {exc}")
            raise typer.Exit(2) from exc
    else:
        err.print("--out must end in .svg or .png")
        raise typer.Exit(2)
    out.print(f"wrote {out_file} ({ccy}, snapshot v{snapshot.version})")
