"""`pshub close` and `pshub reconcile`: month-end close of one entity, and the reconciliation.

Both work against a data directory (``--data-dir``, default ``.pshub``): when it holds the
demo's sandboxes (``<data-dir>/sandboxes``), they are started for the command and stopped
after, as the demo left them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pshub.settings import Settings

app = typer.Typer(help="Month-end close and reconciliation.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Where state is kept.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Period = Annotated[str, typer.Option("--period", help="The period, YYYY-MM.")]


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    return settings if data_dir is None else settings.model_copy(update={"data_dir": data_dir})


@contextmanager
def hub(data_dir: Path | None, *, durable: bool) -> Iterator[Any]:
    """The hub's container wired to the data dir's sandboxes (when there are some)."""
    from pshub import bootstrap
    from pshub.stack import hub_settings, start_sandboxes

    settings = _settings(data_dir)
    boxes = None
    if (settings.data_dir / "sandboxes").is_dir():
        boxes = start_sandboxes(settings, notify_url=None)
        settings = hub_settings(settings, boxes)
    c = bootstrap.build(settings)
    try:
        if durable:
            bootstrap.launch(c)
        yield c
    finally:
        if durable:
            bootstrap.shutdown(c)
        else:
            c.close()
            bootstrap.set_container(None)
        if boxes is not None:
            boxes.stop()


@app.command()
def close(
    entity: Annotated[str, typer.Option("--entity", help="Legal entity code, e.g. US.")],
    period: Period,
    reopen: Annotated[bool, typer.Option("--reopen", help="Reopen the closed period.")] = False,
    reason: Annotated[str, typer.Option(help="Why the period is reopened.")] = "",
    actor: Annotated[str, typer.Option(help="Who closes or reopens.")] = "operator",
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Close ENTITY's PERIOD: recognise revenue, post balanced journals, lock the period."""
    from pshub.close import records
    from pshub.flows import month_end_close as flow
    from pshub.flows.durable import result_of

    if reopen:
        with hub(data_dir, durable=False) as c, c.db.session() as s:
            done = records.reopen(s, entity, period, actor, reason or "reopened by operator")
        _emit(
            {"status": "reopened" if done else "not_locked", "entity": entity, "period": period},
            as_json,
        )
        if not done:
            raise typer.Exit(1)
        return
    with hub(data_dir, durable=True) as c:
        with c.db.session() as s:
            rev = records.revision(s, entity, period)
        inp = flow.CloseMonthInput(entity=entity, period=period, revision=rev, actor=actor)
        result = result_of(flow.start(inp))
    _emit(result, as_json)
    if result.get("status") != "locked":
        raise typer.Exit(1)


@app.command()
def reconcile(
    period: Period,
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Per contract: CRM value, PSA budget, ERP billed, recognised, deferred, unbilled; every
    difference classified."""
    from pshub.close.reconcile import reconcile_period

    with hub(data_dir, durable=False) as c:
        report = reconcile_period(c, period, entity)
    _emit(report, as_json)


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    for key, value in data.items():
        if isinstance(value, list | dict) and len(str(value)) > 200:
            out.print(f"[bold]{key}[/]:")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                out.print(f"  {k}: {v}")
        else:
            out.print(f"[bold]{key}[/]: {value}")
