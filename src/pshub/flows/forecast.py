"""Flow ``forecast_publish``: the hub's revenue forecast, snapshotted and published to FP&A.

    open pipeline (CRM) -> gather the hub's contracts, postings, plan, capacity
      -> forecast (pure) -> immutable snapshot (content-addressed id, next version)
      -> diff against the previous snapshot -> ForecastRevised event      [one transaction]
      -> publish the snapshot's rows to Anaplan (file import), once per snapshot version
      -> rejected rows become a business exception naming each row and its reason
      -> cells and lineage exported as CSV (and Parquet when pyarrow is installed)

A run whose content equals the latest snapshot stores nothing new and publishes that snapshot
(a no-op when it is already published). Steps touch the world once each; the pure forecast
runs inside the snapshot step so the snapshot, its diff and its event commit together. FP&A
never writes back: the event is how a revision reaches operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pshub import forecast_inputs, forecast_outputs
from pshub.bootstrap import Container, container
from pshub.connectors.errors import ConnectorError, UnauthorizedError
from pshub.connectors.retry import call_with_retry
from pshub.domain.findings import Finding, Severity
from pshub.domain.forecast import OpenOpportunity, diff, forecast, take_snapshot
from pshub.domain.forecast_events import forecast_revised
from pshub.domain.money import Money
from pshub.domain.staffing import PlannedWork
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, step_retry
from pshub.policy.forecast import load_forecast_policy
from pshub.store import forecast_tables as store
from pshub.store import repos

FLOW = "forecast_publish"


class AnaplanSettings(BaseSettings):
    """Where the forecast is published (``PSHUB_ANAPLAN_*``); defaults match the sandbox."""

    model_config = SettingsConfigDict(env_prefix="PSHUB_ANAPLAN_", extra="ignore")

    auth_url: str = "http://127.0.0.1:8704"  # real vendor: https://auth.anaplan.com
    api_url: str = "http://127.0.0.1:8704"  # real vendor: https://api.anaplan.com/2/0
    username: str = "pshub-integration@northwind.example"
    password: str = "pshub-demo-anaplan-password"
    workspace_id: str = "8a81b09e5f2c4d7a9b3c6d8e0f1a2b3c"
    model_id: str = "75A40874E6B64FA3AE0743278996850F"
    file_name: str = "pshub_forecast.csv"
    import_name: str = "REV01 Revenue Forecast from pshub_forecast.csv"
    timeout_seconds: float = Field(30.0, gt=0)
    poll_interval_seconds: float = Field(0.2, gt=0)

    @property
    def target(self) -> str:
        return f"anaplan:{self.workspace_id}/{self.model_id}"


class PublishForecastInput(BaseModel):
    """The one input of the workflow; add fields with defaults only (runs may be in flight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    as_of_month: str | None = None  # first open month; None: the clock's month
    horizon_months: int | None = None  # None: forecast.yaml
    publish: bool = True
    republish: bool = False  # upload again even when this snapshot version was published
    export: bool = True
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return f"{FLOW}:{self.run_id}"

    @property
    def correlation_id(self) -> str:
        return f"forecast:{self.run_id}"


def start(inp: PublishForecastInput) -> str:
    """Enqueue the workflow under its run id (starting the same run again is a no-op); the
    queue runs one forecast at a time, so snapshot versions never collide."""
    enqueue(FLOW, forecast_publish, inp, inp.workflow_id)
    return inp.workflow_id


def run(inp: PublishForecastInput) -> dict[str, Any]:
    """Run the workflow in this thread and return its result (the same run id again returns
    the recorded result)."""
    with SetWorkflowID(inp.workflow_id):
        return forecast_publish(inp)


def forecast_history(
    stack: Any, months: Sequence[str], *, publish: bool = False
) -> list[dict[str, Any]]:
    """Store a snapshot as of each month (first open month), e.g. at simulated month ends.

    Call it at the end of October with ``["2026-11"]``: postings of October and earlier are
    actuals, November onwards is forecast. ``stack`` is the running demo stack (only its
    container is used); run ids are ``history:<month>``, so a rerun on the same data
    directory returns the stored result instead of a new version.
    """
    del stack  # the flow reads the installed container, the stack's own
    return [
        run(PublishForecastInput(run_id=f"history:{m}", as_of_month=m, publish=publish))
        for m in months
    ]


def anaplan_settings(c: Container) -> AnaplanSettings:
    found = c.extras.get("anaplan_settings")
    return found if isinstance(found, AnaplanSettings) else AnaplanSettings()


# --- the workflow ----------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def forecast_publish(inp: PublishForecastInput) -> dict[str, Any]:
    record_forecast_start(inp)
    try:
        as_of = inp.as_of_month or forecast_month()
        opportunities, crm_findings = patiently_for(inp, fetch_open_pipeline)
        staffing, psa_findings = patiently_for(inp, fetch_staffing)
        made = build_forecast_snapshot(
            inp, as_of, opportunities, crm_findings + psa_findings, staffing
        )
        published = (
            patiently_for(inp, publish_snapshot, inp, made["version"]) if inp.publish else None
        )
        files = export_snapshot(made["version"]) if inp.export else []
        return record_forecast_completion(inp, made, published, files)
    except DeadLetter as exc:
        return record_forecast_failure(inp, "dead_letter", "transient.exhausted", str(exc))
    except ConnectorError as exc:
        code = "vendor.unauthorized" if isinstance(exc, UnauthorizedError) else "vendor.rejected"
        return record_forecast_failure(inp, "business", code, str(exc))


# --- steps -----------------------------------------------------------------------------------


@DBOS.step()
def record_forecast_start(inp: PublishForecastInput) -> None:
    with container().db.session() as s:
        repos.start_run(
            s,
            workflow_id=inp.workflow_id,
            flow=FLOW,
            correlation_id=inp.correlation_id,
            inbox_id=None,
            attempt=1,
        )
        repos.audit(s, action="flow.started", correlation_id=inp.correlation_id, run_id=inp.run_id)


@DBOS.step()
def forecast_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


@DBOS.step()
def fetch_open_pipeline() -> tuple[list[OpenOpportunity], list[Finding]]:
    """The CRM's open opportunities (the CRM port must answer SOQL ``query``)."""
    c = container()
    if not hasattr(c.crm, "query"):
        note = Finding(
            code="pipeline_unavailable",
            message=f"{type(c.crm).__name__} cannot list open opportunities; no pipeline",
            severity=Severity.WARNING,
        )
        return [], [note]
    rules = load_forecast_policy(c.settings.resolved_policy_dir())
    return call_with_retry(lambda: forecast_inputs.open_opportunities(c.crm, rules), step_retry())


@DBOS.step()
def fetch_staffing() -> tuple[list[PlannedWork] | None, list[Finding]]:
    """The PSA's current resource assignments (``None`` when the PSA port cannot list them:
    every T&M contract is then planned from the staffing plan)."""
    c = container()
    if not hasattr(c.psa, "planned_work"):
        note = Finding(
            code="staffing_unavailable",
            message=f"{type(c.psa).__name__} cannot list assignments; staffing plan used",
            severity=Severity.WARNING,
        )
        return None, [note]
    psa: Any = c.psa
    return call_with_retry(lambda: list(psa.planned_work()), step_retry()), []


@DBOS.step()
def build_forecast_snapshot(
    inp: PublishForecastInput,
    as_of: str,
    opportunities: list[OpenOpportunity],
    crm_findings: list[Finding],
    staffing: list[PlannedWork] | None = None,
) -> dict[str, Any]:
    """Gather, forecast, snapshot, diff and record the event, in one transaction."""
    c = container()
    rules = load_forecast_policy(c.settings.resolved_policy_dir())
    horizon = inp.horizon_months or rules.horizon_months
    now = datetime.now(UTC)
    with c.db.session() as s:
        gathered = forecast_inputs.gather(
            s, c.policy(), rules, opportunities, as_of, horizon, staffing
        )
        latest = store.latest_snapshot(s)
        previous = latest[1] if latest else None
        snapshot = take_snapshot(forecast(gathered.inputs, as_of, horizon), previous)
        if previous is not None and previous.id == snapshot.id:
            return _made(previous, changed=False, movements=0)
        notes = {"findings": [f.model_dump(mode="json") for f in crm_findings + gathered.findings]}
        store.add_snapshot(s, snapshot, run_id=inp.run_id, created_at=now, notes=notes)
        movements = diff(previous, snapshot) if previous is not None else []
        event = forecast_revised(snapshot, movements, now)
        store.add_event(s, event)
        repos.audit(
            s,
            action="forecast.revised",
            correlation_id=inp.correlation_id,
            entity_type="forecast_snapshot",
            entity_id=snapshot.id,
            version=snapshot.version,
            as_of_month=as_of,
            cells=len(snapshot.data.cells),
            movements=len(movements),
            by_cause={e.cause: str(e.amount) for e in event.by_cause},
        )
    return _made(snapshot, changed=True, movements=len(movements))


def _made(snapshot: Any, *, changed: bool, movements: int) -> dict[str, Any]:
    return {
        "snapshot_id": snapshot.id,
        "version": snapshot.version,
        "previous_id": snapshot.previous_id,
        "as_of_month": snapshot.data.as_of_month,
        "label": forecast_outputs.label_of(snapshot),
        "cells": len(snapshot.data.cells),
        "findings": len(snapshot.data.findings),
        "changed": changed,
        "movements": movements,
    }


@DBOS.step()
def publish_snapshot(inp: PublishForecastInput, version: int) -> dict[str, Any]:
    """Publish one snapshot version to Anaplan; skipped when it is already there."""
    c = container()
    settings = anaplan_settings(c)
    with c.db.session() as s:
        snapshot = store.load_snapshot(s, version)
        done = store.publication(s, version, settings.target)
    assert snapshot is not None, f"snapshot v{version} is not stored"
    label = forecast_outputs.label_of(snapshot)
    if done is not None and not inp.republish:
        return {"status": "skipped", "label": label, "already": done.status}
    rows, fx_findings = _rows(c, snapshot)
    outcome = _upload(c, settings, forecast_outputs.anaplan_csv(rows, label))
    by_line = {r.line: r for r in rows}
    rejected = [_rejected(by_line.get(r.row), r.row, r.reason) for r in outcome.rejected]
    entities = {by_line[r.row].legal_entity for r in outcome.rejected if r.row in by_line}
    problems = rejected + fx_findings
    return _record_publication(inp, settings, version, label, rows, outcome, problems, entities)


def _rows(c: Container, snapshot: Any) -> tuple[list[forecast_outputs.AnaplanRow], list[Finding]]:
    policy = c.policy()
    rules = load_forecast_policy(c.settings.resolved_policy_dir())
    currencies = {code: e.currency for code, e in policy.rules.legal_entities.items()}
    return forecast_outputs.anaplan_rows(
        snapshot, rules.anaplan.categories, currencies, policy.billing.fx
    )


def _upload(c: Container, settings: AnaplanSettings, body: bytes) -> Any:
    """One file import; an injected FP&A port (``extras["fpa"]``) is used as given."""
    port = c.extras.get("fpa")
    connector = port if port is not None else forecast_inputs.build_anaplan(settings)
    try:
        return call_with_retry(
            lambda: connector.publish_csv(settings.file_name, body, settings.import_name),
            step_retry(),
        )
    finally:
        if port is None:
            connector.close()


def _rejected(row: forecast_outputs.AnaplanRow | None, line: int, reason: str) -> Finding:
    where = f"row {line}" + (f" ({row.describe()}, {row.amount})" if row else "")
    return Finding(
        code="fpa.row_rejected",
        message=f"{where}: {reason}",
        field="Legal Entity" if "Legal Entity" in reason else None,
        record=f"row {line}",
        amount=row.amount if row else None,
    )


def _record_publication(
    inp: PublishForecastInput,
    settings: AnaplanSettings,
    version: int,
    label: str,
    rows: list[forecast_outputs.AnaplanRow],
    outcome: Any,
    problems: list[Finding],
    entities: set[str],
) -> dict[str, Any]:
    status = "partial" if problems else "published"
    items = [f.model_dump(mode="json") for f in problems]
    with container().db.session() as s:
        store.save_publication(
            s,
            version=version,
            target=settings.target,
            label=label,
            status=status,
            task_id=outcome.task_id,
            rows=len(rows),
            rows_imported=outcome.rows_imported,
            rejected={"items": items},
            published_at=datetime.now(UTC),
            error=None,
        )
        if problems:
            _raise(s, inp, label, problems, entities)
        else:
            repos.resolve_open_exceptions(s, FLOW, label)
        repos.audit(
            s,
            action="fpa.forecast.published",
            correlation_id=inp.correlation_id,
            entity_type="forecast_snapshot",
            entity_id=label,
            system="anaplan",
            system_id=outcome.task_id,
            rows=len(rows),
            rows_imported=outcome.rows_imported,
            rejected=len(problems),
        )
    return {
        "status": status,
        "label": label,
        "rows": len(rows),
        "rows_imported": outcome.rows_imported,
        "rejected": [{"record": f.record, "reason": f.message} for f in problems],
    }


def _raise(
    s: Any, inp: PublishForecastInput, label: str, problems: list[Finding], entities: set[str]
) -> None:
    """One business exception per publication, its findings naming every row left out."""
    amounts = [f.amount for f in problems if f.amount is not None]
    currency = amounts[0].currency if amounts else None
    held = (
        Money.of(sum(a.amount for a in amounts if a.currency == currency), currency)
        if currency
        else None
    )
    repos.raise_exception(
        s,
        flow=FLOW,
        kind="business",
        correlation_id=inp.correlation_id,
        source_system="anaplan",
        source_record=label,
        reason_code=problems[0].code,
        reason="; ".join(f.message for f in problems[:20])
        + (f"; and {len(problems) - 20} more" if len(problems) > 20 else ""),
        amount=held,
        legal_entity=entities.pop() if len(entities) == 1 else None,
        findings=[f.model_dump(mode="json") for f in problems],
        trigger={"flow": FLOW, "input": {**inp.model_dump(mode="json"), "republish": True}},
    )


@DBOS.step()
def export_snapshot(version: int) -> list[str]:
    """Cells and lineage of the snapshot into ``<data_dir>/forecast/`` (overwritten in place)."""
    c = container()
    with c.db.session() as s:
        snapshot = store.load_snapshot(s, version)
    assert snapshot is not None, f"snapshot v{version} is not stored"
    paths = forecast_outputs.export_files(snapshot, c.settings.data_dir / "forecast")
    return [str(p) for p in paths]


@DBOS.step()
def record_forecast_completion(
    inp: PublishForecastInput,
    made: dict[str, Any],
    published: dict[str, Any] | None,
    files: list[str],
) -> dict[str, Any]:
    result = {"status": "completed", **made, "published": published, "files": files}
    with container().db.session() as s:
        repos.finish_run(s, inp.workflow_id, "completed", result)
        repos.audit(s, action="flow.completed", correlation_id=inp.correlation_id, **made)
    return result


@DBOS.step()
def record_forecast_failure(
    inp: PublishForecastInput, kind: str, code: str, reason: str
) -> dict[str, Any]:
    with container().db.session() as s:
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind=kind,
            correlation_id=inp.correlation_id,
            source_system="pshub",
            source_record=inp.run_id,
            reason_code=code,
            reason=reason,
            amount=None,
            legal_entity=None,
            findings=[{"code": code, "message": reason}],
            trigger={"flow": FLOW, "input": inp.model_dump(mode="json")},
        )
        status = "exception" if kind == "business" else "failed"
        repos.finish_run(s, inp.workflow_id, status, {"exception_id": row.id})
        repos.audit(s, action=f"flow.{kind}", correlation_id=inp.correlation_id, reason=reason)
    return {"status": "exception" if kind == "business" else "dead_letter", "reason": reason}
