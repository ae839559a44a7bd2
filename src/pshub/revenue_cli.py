"""`pshub revenue ...`: run revenue-recognition case files (mounted by the main CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pshub.domain.revenue import RevenueResult
from pshub.revenue_case import CaseError, result_to_dict, run_case

app = typer.Typer(
    help="Revenue recognition (ASC 606 / IFRS 15) on YAML case files.", no_args_is_help=True
)


@app.callback()
def _main() -> None:
    """Revenue recognition (ASC 606 / IFRS 15) on YAML case files."""


@app.command()
def run(
    case: Path = typer.Argument(
        ..., help="Path of a revenue case file (YAML, see docs/revenue.md)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Recognise revenue for CASE and print revenue, balances, journals and findings."""
    try:
        result = run_case(case)
    except CaseError as exc:
        if as_json:
            typer.echo(json.dumps({"error": {"field": exc.field, "message": exc.message}}))
        else:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if as_json:
        typer.echo(json.dumps(result_to_dict(result), indent=2))
    else:
        _print(result, Console())


def _print(result: RevenueResult, console: Console) -> None:
    data = result_to_dict(result)
    cur = data["currency"]
    console.print(
        f"Transaction price {cur} {data['transaction_price']} "
        f"(variable included {data['variable_included']}, "
        f"constrained {data['variable_constrained']})"
    )
    alloc = Table(title="Allocation")
    for col in ("obligation", "standalone price", "allocated", "basis"):
        alloc.add_column(col)
    for a in data["allocation"]:
        alloc.add_row(a["obligation"], a["standalone_price"] or "-", a["allocated"], a["basis"])
    console.print(alloc)
    names = list(data["periods"][0]["revenue_by_obligation"]) if data["periods"] else []
    later = {n for p in data["periods"] for n in p["revenue_by_obligation"]}
    names += sorted(later - set(names))
    table = Table(title=f"Revenue by period ({cur})")
    cols = [
        "period",
        *names,
        "revenue",
        "cumulative",
        "billed",
        "collected",
        "receivable",
        "contract asset",
        "contract liability",
    ]
    for col in cols:
        table.add_column(col, justify="left" if col == "period" else "right")
    for p in data["periods"]:
        by = p["revenue_by_obligation"]
        table.add_row(
            p["period"],
            *[by.get(n, "") for n in names],
            p["revenue"],
            p["cumulative_revenue"],
            p["billed"],
            p["collected"],
            p["receivable"],
            p["contract_asset"],
            p["contract_liability"],
        )
    console.print(table)
    journal = Table(title="Journal entries")
    for col in ("period", "entry", "account", "debit", "credit", "obligation"):
        journal.add_column(col)
    for p in data["periods"]:
        for m in p["modifications"]:
            console.print(f"{p['period']}: modification -> {m['treatment']} ({m['reason']})")
        for e in p["journal_entries"]:
            for ln in e["lines"]:
                debit = ln["debit"] if ln["debit"] != "0" else ""
                credit = ln["credit"] if ln["credit"] != "0" else ""
                journal.add_row(
                    p["period"], e["memo"], ln["account"], debit, credit, ln["obligation"] or ""
                )
    console.print(journal)
    for f in data["findings"]:
        console.print(
            f"[yellow]{f['severity']}[/yellow] {f['code']}: {f['message']} "
            f"{f.get('period', '')} {f.get('obligation', '')} {f.get('amount', '')}"
        )
