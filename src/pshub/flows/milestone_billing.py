"""Flow ``milestone_billing``: a completed PSA milestone becomes an ERP invoice, seen everywhere.

    load the contract, project, holds, acceptance and invoiced milestones (hub) -> check (domain)
      -> findings?  business exception with the milestone's amount; the milestone waits
         (``milestone_intake`` re-checks it on every feed poll and queues a new attempt)
      -> billing milestone (PSA, idempotent by canonical id) -> invoice (ERP, upsert by the
         invoice's canonical id) -> read it back (number, status) -> status on the PSA billing
         milestone -> billing fields on the CRM opportunity -> complete; release later milestones

One vendor call per DBOS step, retried in-step on transient errors and waited out durably
(``DBOS.sleep``) while a target stays down; past the patience the work is dead-lettered.
The workflow id is ``milestone_billing:<milestone>:a<attempt>``: a redelivered completion
starts nothing new, and the invoice's external id makes a replayed step an update.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import container
from pshub.connectors.errors import ConnectorError, UnauthorizedError
from pshub.connectors.retry import call_with_retry
from pshub.domain.findings import Finding
from pshub.domain.invoicing import InvoicePlan, find_milestone
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, step_retry
from pshub.flows.invoicing_ports import invoice_draft
from pshub.flows.milestone_context import MilestoneContext, context_for
from pshub.flows.payments import erp, fetch_invoice, psa, write_crm_status, write_psa_status
from pshub.store import invoicing as store
from pshub.store import repos

FLOW = "milestone_billing"


class BillMilestoneInput(BaseModel):
    """The one input of the workflow; add fields with defaults only (runs may be in flight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str
    milestone_id: str
    attempt: int = 1
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.milestone_id, self.attempt)


def workflow_id_for(milestone_id: str, attempt: int) -> str:
    return f"{FLOW}:{milestone_id}:a{attempt}"


def correlation_id_for(milestone_id: str) -> str:
    return f"milestone:{milestone_id}"


def start(inp: BillMilestoneInput) -> str:
    """Enqueue under the business-key id (a second start of the same attempt is a no-op)."""
    enqueue(FLOW, milestone_billing, inp, inp.workflow_id)
    return inp.workflow_id


# --- the workflow ------------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def milestone_billing(inp: BillMilestoneInput) -> dict[str, Any]:
    record_start(inp)
    ctx = load_context(inp.milestone_id)
    if ctx is None:
        return record_failure(inp, "business", "milestone.unmapped", "no contract or project")
    try:
        return _bill(inp, ctx)
    except DeadLetter as exc:
        return record_failure(inp, "dead_letter", "transient.exhausted", str(exc), ctx)
    except ConnectorError as exc:
        code = "vendor.unauthorized" if isinstance(exc, UnauthorizedError) else "vendor.rejected"
        return record_failure(inp, "business", code, str(exc), ctx, exc.as_dict())


def _bill(inp: BillMilestoneInput, ctx: MilestoneContext) -> dict[str, Any]:
    findings = ctx.findings()
    if findings:
        return record_findings(inp, ctx, findings)
    plan = ctx.plan()
    assert ctx.job_id is not None
    prepare_invoice(inp, ctx, plan)
    patiently_for(inp, ensure_billing_milestone, inp.correlation_id, ctx, plan)
    erp_id = patiently_for(inp, create_invoice, inp.correlation_id, plan, ctx.job_id)
    invoice = patiently_for(inp, fetch_invoice, inp.correlation_id, plan.invoice_id, erp_id)
    patiently_for(inp, write_psa_status, inp.correlation_id, plan.invoice_id)
    patiently_for(inp, write_crm_status, inp.correlation_id, plan.invoice_id)
    result = record_completion(inp, ctx, plan, invoice.number)
    for later in release_waiting(ctx.project.id):
        start(later)  # from the workflow body: DBOS enqueues children here, never in a step
    return result


# --- steps -------------------------------------------------------------------------------------


@DBOS.step(name="milestone_billing.record_start")
def record_start(inp: BillMilestoneInput) -> None:
    with container().db.session() as s:
        row = store.milestone_row(s, inp.milestone_id)
        repos.begin_run(
            s,
            workflow_id=inp.workflow_id,
            flow=FLOW,
            correlation_id=inp.correlation_id,
            attempt=inp.attempt,
            entity_type="milestone",
            entity_id=inp.milestone_id,
            system="kantata",
            system_id=row.psa_story_id if row else None,
        )


@DBOS.step(name="milestone_billing.load_context")
def load_context(milestone_id: str) -> MilestoneContext | None:
    c = container()
    with c.db.session() as s:
        return context_for(c, s, milestone_id)


@DBOS.step(name="milestone_billing.prepare_invoice")
def prepare_invoice(inp: BillMilestoneInput, ctx: MilestoneContext, plan: InvoicePlan) -> None:
    """The hub's invoice row before the ERP call, so a crash leaves a visible trace."""
    with container().db.session() as s:
        store.save_planned_invoice(s, plan, ctx.opportunity_id, inp.correlation_id)
        repos.audit(
            s,
            action="invoice.planned",
            correlation_id=inp.correlation_id,
            entity_type="project",
            entity_id=ctx.project.id,
            system="kantata",
            system_id=ctx.psa_project_id,
            invoice=plan.invoice_id,
            milestone=plan.milestone_id,
            net=plan.net,
            tax=plan.tax,
            gross=plan.gross,
            tax_code=plan.tax_code,
            due_date=plan.due_date.isoformat(),
        )


@DBOS.step(name="milestone_billing.ensure_billing_milestone")
def ensure_billing_milestone(correlation_id: str, ctx: MilestoneContext, plan: InvoicePlan) -> str:
    c = container()
    billing_milestone = call_with_retry(
        lambda: psa(c).create_billing_milestone(
            ctx.psa_project_id, ctx.psa_story_id, plan.milestone_name, plan.net, plan.milestone_id
        ),
        step_retry(),
    )
    with c.db.session() as s:
        store.set_psa_billing_milestone(s, plan.invoice_id, billing_milestone)
        repos.audit(
            s,
            action="psa.billing_milestone.upserted",
            correlation_id=correlation_id,
            entity_type="milestone",
            entity_id=plan.milestone_id,
            system=c.psa.system,
            system_id=billing_milestone,
            amount=plan.net,
        )
    return billing_milestone


@DBOS.step(name="milestone_billing.create_invoice")
def create_invoice(correlation_id: str, plan: InvoicePlan, job_id: str) -> str:
    c = container()
    draft = invoice_draft(plan, job_id)
    erp_id = call_with_retry(lambda: erp(c).create_invoice(draft), step_retry())
    with c.db.session() as s:
        repos.record_hop(
            s,
            action="erp.invoice.created",
            correlation_id=correlation_id,
            entity_type="invoice",
            canonical_id=plan.invoice_id,
            system=c.erp.system,
            system_type="invoice",
            system_id=erp_id,
            milestone=plan.milestone_id,
            amount=plan.net,
            tax_code=plan.tax_code,
            subsidiary=plan.subsidiary_id,
        )
    return erp_id


@DBOS.step(name="milestone_billing.record_findings")
def record_findings(
    inp: BillMilestoneInput, ctx: MilestoneContext, findings: list[Finding]
) -> dict[str, Any]:
    first = findings[0]
    reason = "; ".join(f.message for f in findings)
    with container().db.session() as s:
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind="business",
            correlation_id=inp.correlation_id,
            source_system="kantata",
            source_record=inp.milestone_id,
            reason_code=first.code,
            reason=reason,
            amount=first.amount,
            legal_entity=ctx.contract.legal_entity,
            findings=[f.model_dump(mode="json") for f in findings],
            trigger=_trigger(inp),
        )
        store.set_milestone_status(s, inp.milestone_id, "blocked", reason=reason)
        repos.end_run_with_exception(
            s,
            row,
            workflow_id=inp.workflow_id,
            correlation_id=inp.correlation_id,
            entity_type="milestone",
            entity_id=inp.milestone_id,
            amount=first.amount,
        )
    return {
        "status": "blocked",
        "exception_id": row.id,
        "reason_code": first.code,
        "codes": [f.code for f in findings],
        "reason": reason,
        "amount": None if first.amount is None else str(first.amount.amount),
    }


@DBOS.step(name="milestone_billing.record_failure")
def record_failure(
    inp: BillMilestoneInput,
    kind: str,
    code: str,
    reason: str,
    ctx: MilestoneContext | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ms = find_milestone(ctx.project, inp.milestone_id) if ctx else None
    with container().db.session() as s:
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind=kind,
            correlation_id=inp.correlation_id,
            source_system="kantata",
            source_record=inp.milestone_id,
            reason_code=code,
            reason=reason,
            amount=ms.amount if ms else None,
            legal_entity=ctx.contract.legal_entity if ctx else None,
            findings=[{"code": code, "message": reason, **(detail or {})}],
            trigger=_trigger(inp),
        )
        store.set_milestone_status(s, inp.milestone_id, "failed", reason=reason)
        status = repos.end_run_with_exception(
            s, row, workflow_id=inp.workflow_id, correlation_id=inp.correlation_id
        )
    return {"status": status, "exception_id": row.id, "reason_code": code, "reason": reason}


@DBOS.step(name="milestone_billing.record_completion")
def record_completion(
    inp: BillMilestoneInput, ctx: MilestoneContext, plan: InvoicePlan, number: str
) -> dict[str, Any]:
    with container().db.session() as s:
        store.set_milestone_status(s, inp.milestone_id, "invoiced", invoice_id=plan.invoice_id)
        repos.resolve_open_exceptions(s, FLOW, inp.milestone_id)
        invoice = store.get_invoice(s, plan.invoice_id)
        result = {
            "status": "invoiced",
            "milestone_id": inp.milestone_id,
            "invoice_id": plan.invoice_id,
            "invoice_number": number,
            "erp_id": invoice.erp_id if invoice else None,
            "invoice_status": invoice.status if invoice else None,
            "amount": str(plan.net.amount),
            "currency": plan.currency,
        }
        repos.finish_run(s, inp.workflow_id, "completed", result)
        repos.audit(
            s,
            action="flow.completed",
            correlation_id=inp.correlation_id,
            entity_type="invoice",
            entity_id=plan.invoice_id,
            number=number,
            value=plan.net,
            project=ctx.project.id,
        )
    return result


@DBOS.step(name="milestone_billing.release_waiting")
def release_waiting(project_id: str) -> list[BillMilestoneInput]:
    """Later milestones of the project that were waiting for this invoice may go now."""
    from pshub.flows import milestone_intake

    return milestone_intake.recheck(container(), project_id=project_id)


def _trigger(inp: BillMilestoneInput) -> dict[str, Any]:
    return {"flow": FLOW, "input": inp.model_dump(mode="json")}
