"""Flow ``tm_invoicing``: a period's posted time and expenses of one project become invoices.

    plan (hub: posted / re-billable lines, holds, re-bill rule, grouping, cap -> planned
      invoices stored before any ERP call, exceptions with their money)
    for each planned invoice:
      create it (ERP, upsert by the invoice's canonical id: a replay updates, never duplicates)
      -> read it back (number, totals, status)  -> ledger posted -> invoiced (hub, one commit)
      -> billing fields on the CRM opportunity
      a refusal or an outlasted outage: exception with reason and amount; the lines stay
      posted for the next run

The workflow id is ``tm_invoicing:<period>:<PSA project>[:<run>]``: starting the same run
again returns the first run. A later run of the period (``run`` set, e.g. after credit notes)
invoices what is posted or re-billable then. :func:`run_tm_invoicing` starts one run per
project with posted work and waits for them (the demo's entry point).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import Container, container
from pshub.connectors.errors import ConnectorError, UnauthorizedError
from pshub.connectors.retry import call_with_retry
from pshub.flows import tm_invoicing_plan as service
from pshub.flows import tm_invoicing_record as recorder
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, result_of, step_retry
from pshub.flows.payments import erp, fetch_invoice, write_crm_status
from pshub.store import credits, repos, tm_ledger
from pshub.store import tm_invoicing as store

FLOW = service.FLOW


class RunTmInvoicingInput(BaseModel):
    """One T&M invoicing run of one project; add fields with defaults only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str  # PSA project (workspace) id
    period: str  # YYYY-MM: lines billed in this period or before
    invoice_date: date
    run: str = ""
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        suffix = f":{self.run}" if self.run else ""
        return f"{FLOW}:{self.period}:{self.project_id}{suffix}"

    @property
    def correlation_id(self) -> str:
        return service.correlation_id_for(self.project_id)


def start(inp: RunTmInvoicingInput) -> str:
    """Enqueue under the business-key id (a second start of the same run is a no-op)."""
    enqueue(FLOW, tm_invoicing, inp, inp.workflow_id)
    return inp.workflow_id


def run_tm_invoicing(
    period: str,
    *,
    invoice_date: date | None = None,
    run: str = "",
    c: Container | None = None,
) -> dict[str, Any]:
    """Invoice every project with posted work for ``period`` and wait: the totals (for the
    demo's summary: ``invoices_created``, ``lines_invoiced``, ``exceptions``)."""
    c = c or container()
    day = invoice_date or repos.utcnow().date()
    with c.db.session() as s:
        projects = store.projects_with_open_lines(s)
    ids = [
        start(
            RunTmInvoicingInput(
                project_id=p,
                period=period,
                invoice_date=day,
                run=run,
                patience_seconds=c.settings.outage_patience_seconds,
            )
        )
        for p in projects
    ]
    results = [result_of(i) for i in ids]
    return {
        "projects": len(ids),
        "invoices_created": sum(r["invoices"] for r in results),
        "lines_invoiced": sum(r["lines"] for r in results),
        "exceptions": sum(len(r["exceptions"]) + r["failed"] for r in results),
    }


def summary(c: Container | None = None) -> dict[str, int]:
    """For the demo's JSON summary: T&M invoices made, credit notes, lines double billed (0)."""
    c = c or container()
    with c.db.session() as s:
        made = sum(1 for row in store.tm_invoices(s) if row.erp_id is not None)
        notes = credits.counts(s)
        double = tm_ledger.double_billed(s)
    return {
        "invoices_created": made,
        "credit_notes": notes["credit_notes"],
        "credited_lines": notes["credited_lines"],
        "double_billed": double,
    }


# --- the workflow ------------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def tm_invoicing(inp: RunTmInvoicingInput) -> dict[str, Any]:
    record_run(inp, "running", None)
    plan = plan_run(inp)
    made = failed = lines = 0
    for planned in plan.invoices:
        outcome = _invoice(inp, planned)
        if outcome.get("status") == "rejected":
            failed += 1
        else:
            made += 1
            lines += outcome["invoiced"]
    totals = {
        "invoices": made,
        "lines": lines,
        "failed": failed,
        "held": plan.held,
        "exceptions": list(plan.exceptions),
    }
    record_run(inp, "exception" if failed or plan.exceptions else "completed", totals)
    return totals


def _invoice(inp: RunTmInvoicingInput, planned: service.PlannedInvoice) -> dict[str, Any]:
    try:
        erp_id = patiently_for(inp, create_invoice, planned)
        patiently_for(inp, fetch_invoice, planned.correlation_id, planned.invoice_id, erp_id)
        outcome = record_invoiced(planned, erp_id)
        patiently_for(inp, write_crm_status, planned.correlation_id, planned.invoice_id)
    except DeadLetter as exc:
        return record_rejected(planned, "dead_letter", "transient.exhausted", str(exc))
    except ConnectorError as exc:
        code = "vendor.unauthorized" if isinstance(exc, UnauthorizedError) else "vendor.rejected"
        return record_rejected(planned, "business", code, str(exc))
    return outcome


# --- steps -------------------------------------------------------------------------------------


@DBOS.step(name="tm_invoicing.record_run")
def record_run(inp: RunTmInvoicingInput, status: str, totals: dict[str, Any] | None) -> None:
    with container().db.session() as s:
        if status == "running":
            repos.begin_run(
                s,
                workflow_id=inp.workflow_id,
                flow=FLOW,
                correlation_id=inp.correlation_id,
                attempt=1,
                entity_type="project",
                entity_id=inp.project_id,
                system="kantata",
                period=inp.period,
            )
            return
        repos.finish_run(s, inp.workflow_id, status, totals)
        repos.audit(
            s,
            action=f"tm_invoicing.run.{status}",
            correlation_id=inp.correlation_id,
            period=inp.period,
            **(totals or {}),
        )


@DBOS.step(name="tm_invoicing.plan_run")
def plan_run(inp: RunTmInvoicingInput) -> service.RunPlan:
    return service.plan_project(container(), inp.project_id, inp.period, inp.invoice_date)


@DBOS.step(name="tm_invoicing.create_invoice")
def create_invoice(planned: service.PlannedInvoice) -> str:
    c = container()
    return call_with_retry(lambda: erp(c).create_invoice(planned.draft), step_retry())


@DBOS.step(name="tm_invoicing.record_invoiced")
def record_invoiced(planned: service.PlannedInvoice, erp_id: str) -> dict[str, Any]:
    return recorder.record_invoiced(container(), planned, erp_id)


@DBOS.step(name="tm_invoicing.record_rejected")
def record_rejected(
    planned: service.PlannedInvoice, kind: str, code: str, reason: str
) -> dict[str, Any]:
    return recorder.record_rejected(container(), planned, kind, code, reason)
