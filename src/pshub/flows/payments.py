"""Payments flowing back: ERP customer payments -> invoice status in the hub, PSA and CRM.

    poll (pshub serve's loop or a caller): NetSuite payments changed since the cursor
      -> each application to a hub invoice kept in ``invoice_payments``
      -> one ``invoice_status`` workflow per (invoice, payment version)  (queue "invoice_status")
    invoice_status: fetch the invoice (ERP) -> status in the hub (open / partially paid / paid)
      -> status on the Kantata billing milestone -> billing fields on the Salesforce opportunity

The cursor is the newest ``lastModifiedDate`` seen, stored with the payments it delivered;
the next poll reads from that second again (NetSuite's filter is inclusive), and the workflow
id of a payment version already handled makes the re-read a no-op. The receivables feed for
forecasting is :func:`pshub.store.invoicing.open_receivables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import Container, container
from pshub.connectors.errors import ConnectorError
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.ids import canonical_id
from pshub.domain.invoicing import deal_billing, invoice_status
from pshub.flows.durable import DeadLetter, patiently_for, step_retry
from pshub.flows.invoicing_ports import (
    CrmInvoicingPort,
    ErpInvoice,
    ErpInvoicingPort,
    ErpPayment,
    PsaInvoicingPort,
    erp_invoice,
    erp_payments,
    opportunity_billing_fields,
)
from pshub.store import billing as billing_repo
from pshub.store import credits, repos
from pshub.store import invoicing as store

FLOW = "invoice_status"
FEED = "netsuite:payments"


def erp(c: Container) -> ErpInvoicingPort:
    return cast(ErpInvoicingPort, c.extras.get("erp_invoicing", c.erp))


def psa(c: Container) -> PsaInvoicingPort:
    return cast(PsaInvoicingPort, c.psa)


def crm(c: Container) -> CrmInvoicingPort:
    return cast(CrmInvoicingPort, c.crm)


class SyncInvoiceStatusInput(BaseModel):
    """Bring one invoice's status from the ERP to the hub, the PSA and the CRM."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str
    invoice_id: str
    because: str  # what changed, e.g. "payment 812@2026-11-03T10:00:00Z" (part of the id)
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return f"{FLOW}:{self.invoice_id}:{self.because}"


def start(inp: SyncInvoiceStatusInput) -> str:
    queue = DBOS.retrieve_queue(FLOW)
    if queue is None:
        raise RuntimeError(f"queue {FLOW} is not registered; call bootstrap.launch()")
    with SetWorkflowID(inp.workflow_id):
        queue.enqueue(invoice_status_flow, inp)
    return inp.workflow_id


# --- polling -----------------------------------------------------------------------------------


@dataclass
class PaymentPoll:
    payments: int = 0  # payments the ERP listed since the cursor
    workflows: list[str] = field(default_factory=list)  # status syncs started for new versions
    cursor: str | None = None


def poll(c: Container, retry: RetryPolicy | None = None) -> PaymentPoll:
    """Read payments changed since the cursor and start a status sync per invoice they pay."""
    retry = retry or RetryPolicy(max_elapsed=c.settings.step_retry_seconds)
    with c.db.session() as s:
        cursor = billing_repo.get_cursor(s, FEED) or _first_cursor(s)
    result = PaymentPoll(cursor=cursor)
    if cursor is None:  # the hub has invoiced nothing yet: no payment can be ours
        return result
    since = datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    views = call_with_retry(lambda: erp(c).list_payments(since), retry)
    applications = erp_payments(views)
    starts: list[SyncInvoiceStatusInput] = []
    with c.db.session() as s:
        for app in applications:
            invoice_id = _keep(s, app)  # None: not ours, or nothing new
            if invoice_id is not None:
                starts.append(_sync_input(s, c, invoice_id, app))
        newest = max((a.modified for a in applications), default=cursor)
        billing_repo.set_cursor(s, FEED, max(newest, cursor))
    result.payments, result.cursor = len(views), max(newest, cursor)
    result.workflows = [start(inp) for inp in starts]
    return result


def _first_cursor(s: Any) -> str | None:
    """A day before the hub's first invoice: no earlier payment can be for one of ours."""
    first = store.first_invoice_created(s)
    return None if first is None else f"{first - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"


def _keep(s: Any, app: ErpPayment) -> str | None:
    invoice_id, fresh = store.record_payment(
        s,
        erp_payment_id=app.erp_payment_id,
        invoice_erp_id=app.invoice_erp_id,
        amount=app.amount,
        payment_date=app.payment_date,
        erp_modified=app.modified,
    )
    if invoice_id is None or not fresh:  # not ours, or this version was handled already
        return None
    invoice = store.get_invoice(s, invoice_id)
    assert invoice is not None
    payment_id = canonical_id("payment", "netsuite", app.erp_payment_id)
    repos.record_hop(
        s,
        action="erp.payment.applied",
        correlation_id=invoice.correlation_id,
        entity_type="payment",
        canonical_id=payment_id,
        system="netsuite",
        system_type="customerPayment",
        system_id=app.erp_payment_id,
        invoice=invoice_id,
        invoice_number=invoice.number,
        amount=app.amount,
        modified=app.modified,
    )
    return invoice_id


def _sync_input(s: Any, c: Container, invoice_id: str, app: ErpPayment) -> SyncInvoiceStatusInput:
    invoice = store.get_invoice(s, invoice_id)
    assert invoice is not None
    return SyncInvoiceStatusInput(
        correlation_id=invoice.correlation_id,
        invoice_id=invoice_id,
        because=f"payment {app.erp_payment_id}@{app.modified}",
        patience_seconds=c.settings.outage_patience_seconds,
    )


# --- the workflow ------------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def invoice_status_flow(inp: SyncInvoiceStatusInput) -> dict[str, Any]:
    record_run(inp, "running", None)
    try:
        erp_id = invoice_erp_id(inp.invoice_id)
        patiently_for(inp, fetch_invoice, inp.correlation_id, inp.invoice_id, erp_id)
        patiently_for(inp, write_psa_status, inp.correlation_id, inp.invoice_id)
        status = patiently_for(inp, write_crm_status, inp.correlation_id, inp.invoice_id)
    except DeadLetter as exc:
        return record_run(inp, "failed", {"error": str(exc), "kind": "dead_letter"})
    except ConnectorError as exc:
        return record_run(inp, "exception", {"error": str(exc), **exc.as_dict()})
    return record_run(inp, "completed", {"invoice_id": inp.invoice_id, "status": status})


@DBOS.step(name="payments.record_run")
def record_run(
    inp: SyncInvoiceStatusInput, status: str, result: dict[str, Any] | None
) -> dict[str, Any]:
    with container().db.session() as s:
        if status == "running":
            repos.start_run(
                s,
                workflow_id=inp.workflow_id,
                flow=FLOW,
                correlation_id=inp.correlation_id,
                inbox_id=None,
                attempt=1,
            )
        else:
            repos.finish_run(s, inp.workflow_id, status, result)
            repos.audit(
                s,
                action=f"invoice.status.{status}",
                correlation_id=inp.correlation_id,
                because=inp.because,
                **(result or {}),
            )
    return {"status": status, **(result or {})}


@DBOS.step(name="payments.invoice_erp_id")
def invoice_erp_id(invoice_id: str) -> str:
    with container().db.session() as s:
        row = store.get_invoice(s, invoice_id)
        if row is None or row.erp_id is None:
            raise LookupError(f"invoice {invoice_id} has no ERP id yet")
        return row.erp_id


# --- steps shared with milestone billing: one vendor call each ---------------------------------


@DBOS.step(name="payments.fetch_invoice")
def fetch_invoice(correlation_id: str, invoice_id: str, erp_id: str) -> ErpInvoice:
    """Read the invoice from the ERP and keep its number, totals and the hub's status."""
    c = container()
    invoice = erp_invoice(call_with_retry(lambda: erp(c).get_invoice(erp_id), step_retry()))
    with c.db.session() as s:
        credited = credits.credited_total(s, invoice_id, invoice.total.currency)
        status = invoice_status(invoice.erp_status, invoice.total, invoice.remaining, credited)
        changed = store.update_invoice(
            s,
            invoice_id,
            erp_id=invoice.erp_id,
            number=invoice.number,
            erp_status=invoice.erp_status,
            status=status,
            total=invoice.total.amount,
            remaining=invoice.remaining.amount,
        )
        if changed:
            repos.audit(
                s,
                action="invoice.status.changed",
                correlation_id=correlation_id,
                entity_type="invoice",
                entity_id=invoice_id,
                system="netsuite",
                system_id=invoice.erp_id,
                number=invoice.number,
                status=status.value,
                erp_status=invoice.erp_status,
                remaining=invoice.remaining,
            )
    return invoice


@DBOS.step(name="payments.write_psa_status")
def write_psa_status(correlation_id: str, invoice_id: str) -> str:
    """The invoice number and the hub's status on the PSA's billing milestone."""
    c = container()
    with c.db.session() as s:
        row = store.get_invoice(s, invoice_id)
        assert row is not None
        target, number, status = row.psa_billing_milestone_id, row.number or "", row.status
    if target is None:  # not a PSA-billed invoice
        return status
    call_with_retry(
        lambda: psa(c).set_milestone_invoice_status(target, number, status), step_retry()
    )
    with c.db.session() as s:
        repos.audit(
            s,
            action="psa.invoice_status.written",
            correlation_id=correlation_id,
            entity_type="invoice",
            entity_id=invoice_id,
            system=c.psa.system,
            system_id=target,
            number=number,
            status=status,
        )
    return status


@DBOS.step(name="payments.write_crm_status")
def write_crm_status(correlation_id: str, invoice_id: str) -> str:
    """Last invoice, invoiced and paid totals and the deal's billing status on the opportunity."""
    c = container()
    with c.db.session() as s:
        row = store.get_invoice(s, invoice_id)
        assert row is not None
        opportunity, number, status = row.opportunity_id, row.number or "", row.status
        deal = deal_billing(store.deal_invoices(s, opportunity or ""), row.currency)
    if opportunity is None:
        return status
    fields = opportunity_billing_fields(number, status, deal)
    call_with_retry(lambda: crm(c).update_opportunity(opportunity, fields), step_retry())
    with c.db.session() as s:
        repos.audit(
            s,
            action="crm.billing_status.written",
            correlation_id=correlation_id,
            entity_type="opportunity",
            system=c.crm.system,
            system_id=opportunity,
            invoice=invoice_id,
            **fields,
        )
    return status
