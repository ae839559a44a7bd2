"""`pshub invoicing`: finance's T&M invoicing run and credit notes issued by the hub.

Like ``pshub close``, both work against a data directory (``--data-dir``, default
``.pshub``) and start the demo's sandboxes from it when it holds them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from pshub.close_cli import AsJson, DataDir, Period, _emit, hub

app = typer.Typer(help="T&M invoicing runs and credit notes.", no_args_is_help=True)


@app.command("run")
def run(
    period: Period,
    invoice_date: Annotated[
        str | None, typer.Option(help="Invoice date, YYYY-MM-DD (default: today).")
    ] = None,
    again: Annotated[
        str, typer.Option("--run", help="A later run of the same period (e.g. 2).")
    ] = "",
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Invoice every project's posted (and re-billable) T&M lines of PERIOD or before,
    grouped by the contract's invoice-grouping policy; one NetSuite invoice per group."""
    from pshub.flows import tm_invoicing

    day = date.fromisoformat(invoice_date) if invoice_date else None
    with hub(data_dir, durable=True) as c:
        totals = tm_invoicing.run_tm_invoicing(period, invoice_date=day, run=again, c=c)
    _emit({"period": period, **totals}, as_json)
    if totals["exceptions"]:
        raise typer.Exit(1)


@app.command("credit-note")
def credit_note(
    invoice: Annotated[str, typer.Option("--invoice", help="The hub's invoice id.")],
    line: Annotated[
        list[str] | None,
        typer.Option("--line", help="Source key of a line to credit (repeat; default: all)."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why the lines are credited.")] = "",
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Credit lines of a T&M invoice in full: a NetSuite credit memo, the lines re-billable
    (billed again, once, by the next invoicing run). The same lines again are the same note."""
    from pshub.flows import credit_notes
    from pshub.flows.durable import result_of

    with hub(data_dir, durable=True) as c:
        workflow = credit_notes.issue_credit_note(
            invoice, line or None, reason=reason or "credit note issued by an operator", c=c
        )
        result = result_of(workflow)
    _emit(result if isinstance(result, dict) else {"result": result}, as_json)
