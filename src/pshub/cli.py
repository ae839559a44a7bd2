"""`pshub` command line: demo, serve, sandboxes, configuration checks and operations."""

from __future__ import annotations

import json
import signal
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pshub import close_cli, invoicing_cli
from pshub.forecast_cli import app as forecast_app
from pshub.revenue_cli import app as revenue_app
from pshub.settings import Settings

app = typer.Typer(
    help="pshub: quote-to-cash integration hub for professional-services firms.",
    no_args_is_help=True,
    add_completion=False,
)
sandbox_app = typer.Typer(
    help="Vendor sandboxes (Salesforce, Kantata, NetSuite).", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")
access_app = typer.Typer(help="Console users and API clients.", no_args_is_help=True)
app.add_typer(access_app, name="access")
bench_app = typer.Typer(
    help="Benchmarks: figures printed (and --json), never asserted.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.add_typer(forecast_app, name="forecast", help="Revenue forecast: run, show, backtest, chart.")
app.add_typer(revenue_app, name="revenue", help="Revenue recognition (ASC 606 / IFRS 15).")

err = Console(stderr=True)
out = Console()

DataDir = Annotated[Path, typer.Option("--data-dir", help="Where state is kept.")]


def _settings(data_dir: Path | None = None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings


def _block_until_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the simulated firm (reproducible).")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Last line of stdout is JSON.")] = False,
    serve: Annotated[bool, typer.Option(help="Keep hub and sandboxes running after.")] = False,
    data_dir: DataDir = Path(".pshub"),
    fresh: Annotated[bool, typer.Option(help="Start over: wipe the data directory.")] = False,
    latency_ms: Annotated[float, typer.Option(help="Latency added by each sandbox.")] = 0,
) -> None:
    """Seed a firm, close its deals in the CRM sandbox, and provision them through the hub."""
    from pshub import demo as demo_run

    settings = _settings(data_dir)
    err.print(f"[bold]pshub demo[/] — seed {seed}, data in {data_dir.resolve()}")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("deals provisioned or excepted", total=None)
        days = progress.add_task("a quarter of delivery, billed nightly", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        def on_day(done: int, total: int) -> None:
            progress.update(days, completed=done + 1, total=total)

        result, stack = demo_run.run(
            settings,
            seed=seed,
            fresh=fresh,
            latency_ms=latency_ms,
            on_progress=on_progress,
            on_day=on_day,
        )
    try:
        _print_demo(result)
        if serve:
            print(
                json.dumps(
                    {
                        "urls": stack.urls,
                        "credentials": stack.credentials(),
                        "console": f"{stack.urls['hub']}/console",
                        "console_login": {
                            "user": "admin",
                            "password": "PSHUB_ADMIN_PASSWORD or the demo default pshub-admin",
                        },
                        "api_docs": f"{stack.urls['hub']}/docs",
                    }
                ),
                flush=True,
            )
        if as_json:
            print(json.dumps(result.summary(), default=str), flush=True)
        if serve:
            err.print("[green]serving[/] — Ctrl-C to stop")
            _block_until_signal()
    finally:
        stack.stop()


def _print_demo(result: Any) -> None:
    table = Table(title=f"Closed-won deals ({result.deals_closed})", expand=False)
    table.add_column("deal", overflow="ellipsis", max_width=30, no_wrap=True)
    table.add_column("entity")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("outcome", overflow="fold")
    for o in result.outcomes:
        if o.status == "completed":
            ids = o.system_ids
            outcome = (
                f"[green]provisioned[/] PSA {ids.get('psa_project_id', '?')}"
                f" · ERP job {ids.get('erp_job_id', '?')}"
            )
        else:
            outcome = f"[red]{o.status}[/]: {o.reason or ''}"
        table.add_row(o.name, o.entity, f"{o.currency} {Decimal(o.amount):,}", outcome)
    err.print(table)
    held: dict[str, Decimal] = {}
    for e in result.exceptions:
        held[e["currency"]] = held.get(e["currency"], Decimal(0)) + Decimal(e["amount"])
    held_text = ", ".join(f"{c} {v:,}" for c, v in sorted(held.items())) or "nothing"
    err.print(
        f"[bold]{result.projects_provisioned}[/] of {result.deals_closed} deals provisioned; "
        f"[bold]{len(result.exceptions)}[/] exceptions hold back {held_text}; "
        f"duplicates in sandboxes: {sum(result.duplicates.values())}; "
        f"{result.seconds:.1f}s"
    )
    month = result.month
    if month:
        d2b = month.get("days_to_bill", {})
        held_now = (
            ", ".join(f"{c} {Decimal(v):,}" for c, v in month["held_amount"].items()) or "none"
        )
        err.print(
            f"[bold]Delivery quarter[/]: {month['time_entries_approved']} entries approved, "
            f"{month['time_entries_posted']} posted to the ERP in {month['billing_runs']} "
            f"nightly runs, {month['reversals']} reversal(s), {month['rolled_past_cutoff']} "
            f"rolled past the cutoff; held now: {month['time_entries_held']} ({held_now}); "
            f"double billed: {month['double_billed']}; days to bill: mean "
            f"{d2b.get('mean')}, p95 {d2b.get('p95')}"
        )
        if "invoices_created" in month:
            recon = month.get("reconciliation") or {}
            err.print(
                f"[bold]Billing and close[/]: {month['milestones_completed']} milestones "
                f"completed, {month['invoices_created']} invoices "
                f"({month['invoices_by_source']['milestone']} milestone, "
                f"{month['invoices_by_source']['tm']} T&M), {month['payments_applied']} "
                f"payments, {month['credit_notes']} credit note(s), "
                f"{month['change_orders_applied']} change order(s) applied; "
                f"{month['closes_locked']}/{month['closes']} entity-months closed; "
                f"reconciliation {recon.get('period')}: {recon.get('contracts')} contracts, "
                f"{recon.get('timing')} timing, {recon.get('break')} breaks, "
                f"{recon.get('unexplained')} unexplained"
            )
        for event in result.month_events:
            err.print(f"  · {event}")
    for vendor, counts in result.records.items():
        text = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        err.print(f"  {vendor}: {text}")


@app.command()
def serve(
    data_dir: DataDir = Path(".pshub"),
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the hub API.")] = None,
) -> None:
    """Run the hub: DBOS worker and HTTP API, against the configured vendor endpoints."""
    from pshub import bootstrap
    from pshub.api.app import create_app
    from pshub.flows import ingest
    from pshub.sandboxes.server import ThreadedServer

    settings = _settings(data_dir)
    c = bootstrap.build(settings)
    bootstrap.launch(c)
    swept = ingest.sweep_inbox(c)
    api = ThreadedServer(
        create_app(c),
        host=host or settings.hub_host,
        port=port or settings.hub_port,
        name="pshub-api",
    ).start()
    from pshub.worker import BillingLoop

    loop = BillingLoop(c, settings.billing_interval_seconds).start()
    print(json.dumps({"hub": api.url, "recovered_inbox_events": swept}), flush=True)
    try:
        _block_until_signal()
    finally:
        loop.stop()
        api.stop()
        bootstrap.shutdown(c)


@sandbox_app.command("up")
def sandbox_up(
    data_dir: DataDir = Path(".pshub"),
    notify_url: Annotated[str | None, typer.Option(help="Where Salesforce sends changes.")] = None,
    salesforce_port: int = 8701,
    kantata_port: int = 8702,
    netsuite_port: int = 8703,
    anaplan_port: int = 8704,
    latency_ms: float = 0,
) -> None:
    """Start the three vendor sandboxes and print their base URLs as one JSON line."""
    from pshub.stack import start_sandboxes

    settings = _settings(data_dir)
    notify = notify_url or f"http://{settings.hub_host}:{settings.hub_port}/webhooks/salesforce"
    boxes = start_sandboxes(
        settings,
        notify_url=notify,
        latency_ms=latency_ms,
        ports={
            "salesforce": salesforce_port,
            "kantata": kantata_port,
            "netsuite": netsuite_port,
            "anaplan": anaplan_port,
        },
    )
    print(json.dumps({"urls": boxes.urls, "ca_file": str(boxes.ca_file)}), flush=True)
    try:
        _block_until_signal()
    finally:
        boxes.stop()


@app.command("check-config")
def check_config(
    policy_dir: Annotated[Path | None, typer.Option(help="Policy directory to check.")] = None,
    data_dir: DataDir = Path(".pshub"),
) -> None:
    """Validate the policy files; every problem is printed with its file and field."""
    from pshub.policy import check_policy
    from pshub.policy.forecast import check_forecast_policy
    from pshub.policy.invoicing import check_invoicing

    directory = policy_dir or _settings(data_dir).resolved_policy_dir()
    policy, errors = check_policy(directory)
    # invoicing.yaml and forecast.yaml are loaded on their own; check them here too
    errors = [*errors, *check_invoicing(directory)[1], *check_forecast_policy(directory)[1]]
    if errors or policy is None:
        for e in errors:
            err.print(f"[red]error[/] {e}")
        err.print(f"{len(errors)} error(s) in {directory}")
        raise typer.Exit(1)
    rules = policy.rules
    out.print(
        f"policy OK ({directory}): {len(rules.legal_entities)} legal entities, "
        f"{len(rules.service_lines)} service lines, {len(rules.templates)} templates, "
        f"{len(rules.rate_cards)} rate cards"
    )


@access_app.command("add-user")
def add_user(
    username: str,
    role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "operator",
    data_dir: DataDir = Path(".pshub"),
) -> None:
    """Create (or update) a console user; the password is asked for, never echoed."""
    from pshub.console.accounts import create_user

    if role not in ("viewer", "operator", "admin"):
        raise typer.BadParameter("role: viewer, operator or admin")
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    c = _offline_container(data_dir)
    try:
        create_user(c, username, password, role, actor="cli")
    finally:
        c.db.dispose()
    out.print(f"user {username} ({role}) saved")


@access_app.command("add-client")
def add_client(
    client_id: str,
    scopes: Annotated[str, typer.Option(help="space-separated: read operate admin")] = "read",
    data_dir: DataDir = Path(".pshub"),
) -> None:
    """Register an API client; prints its API key once (send it as X-API-Key)."""
    from pshub.console.accounts import create_api_client

    c = _offline_container(data_dir)
    try:
        key = create_api_client(c, client_id, scopes.split(), actor="cli")
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    finally:
        c.db.dispose()
    print(key)


def _offline_container(data_dir: Path) -> Any:
    """Just the database (migrated), for commands that need no vendor clients or DBOS."""
    from types import SimpleNamespace

    from pshub.store.db import Database

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SimpleNamespace(settings=settings, db=Database(settings.resolved_database_url()))


PROCESSES_HELP = (
    "posting processes (PSHUB_POSTING_PROCESSES, decision 0012; 0: bill in the hub's process)"
)


@bench_app.command("drain")
def bench_drain(
    entries: int = 100_000,
    concurrency: int = 5,
    latency_ms: float = 50,
    projects: int = 50,
    processes: Annotated[int, typer.Option(help=PROCESSES_HELP)] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Drain approved entries into the NetSuite sandbox at its concurrency and latency."""
    import tempfile

    from pshub.bench_billing import drain_netsuite

    with tempfile.TemporaryDirectory(prefix="pshub-drain-") as tmp:
        result = drain_netsuite(
            entries, concurrency, latency_ms, Path(tmp), projects, processes=processes
        )
    _bench_print(result, as_json)


@bench_app.command("overhead")
def bench_overhead(
    entries: int = 100_000,
    projects: int = 50,
    processes: Annotated[int, typer.Option(help=PROCESSES_HELP)] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The time-to-bill path into a zero-latency sink: the hub's own cost per entry."""
    import tempfile

    from pshub.bench_billing import overhead

    with tempfile.TemporaryDirectory(prefix="pshub-overhead-") as tmp:
        result = overhead(entries, Path(tmp), projects, processes)
    _bench_print(result, as_json)


def _bench_print(result: dict[str, Any], as_json: bool) -> None:
    if not as_json:
        for key, value in result.items():
            err.print(f"{key:>32}: {value}")
    print(json.dumps(result), flush=True)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()


# Month-end close and reconciliation (pshub.close_cli), after the commands above in --help.
app.command("close")(close_cli.close)
app.command("reconcile")(close_cli.reconcile)
app.add_typer(invoicing_cli.app, name="invoicing")
