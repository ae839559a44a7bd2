"""T&M invoicing services, second half: record what the ERP made of a planned invoice.

:func:`record_invoiced` appends the ledger's invoice (and re-bill) entries for exactly the
lines the ERP invoice carries, in one commit; :func:`record_rejected` leaves them posted for
the next run and raises an exception with the invoice's amount.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pshub.bootstrap import Container
from pshub.domain.invoicing import InvoiceStatus
from pshub.domain.ledger import LedgerRefusal, LineState, SourceLine, invoice, rebill
from pshub.domain.money import Money
from pshub.domain.tm_invoicing import may_invoice
from pshub.flows.tm_invoicing_plan import FLOW, PlannedInvoice
from pshub.store import repos, tm_ledger
from pshub.store import tm_invoicing as store
from pshub.store.invoicing_tables import InvoiceRow


def record_invoiced(c: Container, planned: PlannedInvoice, erp_id: str) -> dict[str, Any]:
    """posted -> invoiced (re-billable -> posted -> invoiced) for the invoice's planned lines,
    in one commit; lines already recorded (a replay) are left alone."""
    done: list[str] = []
    refused: list[str] = []
    with c.db.session() as s:
        rows = store.lines_of(s, planned.invoice_id, "planned")
        books = tm_ledger.load(s, [r.source_key for r in rows])
        for row in rows:
            book = books.get(row.source_key)
            amount = Money.of(row.amount, row.currency)
            try:
                if book is None or not may_invoice(book.invoices, book.credits):
                    raise LedgerRefusal(f"{row.source_key}: not invoiceable any more")
                _invoice_line(s, book, row.version, amount, planned.invoice_id)
                done.append(row.source_key)
            except LedgerRefusal:
                refused.append(row.source_key)
        store.set_lines_state(s, planned.invoice_id, "invoiced", done)
        store.set_lines_state(s, planned.invoice_id, "refused", refused)
        invoice_row = s.get(InvoiceRow, planned.invoice_id)
        if invoice_row is not None and invoice_row.erp_id is None:
            invoice_row.erp_id = erp_id  # payments and credit memos find it by this id
        repos.record_hop(
            s,
            action="erp.invoice.created",
            correlation_id=planned.correlation_id,
            entity_type="invoice",
            canonical_id=planned.invoice_id,
            system="netsuite",
            system_type="invoice",
            system_id=erp_id,
            project=planned.canonical_project_id,
            amount=planned.net,
            lines=len(done),
        )
        repos.resolve_open_exceptions(s, FLOW, f"tm-invoice:{planned.invoice_id}")
        if refused:
            _changed_lines(s, planned, [r for r in rows if r.source_key in refused])
    return {"invoice_id": planned.invoice_id, "invoiced": len(done), "refused": refused}


def _changed_lines(s: Session, planned: PlannedInvoice, rows: list[Any]) -> None:
    """Lines whose posting changed (an edit reversed it) while the invoice was being made are
    on the ERP invoice but not invoiced in the ledger: a person credits them there."""
    amount = Money.of(sum(r.amount for r in rows), rows[0].currency)
    repos.raise_exception(
        s,
        flow=FLOW,
        kind="business",
        correlation_id=planned.correlation_id,
        source_system="netsuite",
        source_record=f"tm-invoice:{planned.invoice_id}:changed",
        reason_code="invoice.line_changed",
        reason=f"{amount} on invoice {planned.invoice_id} for lines whose posting changed "
        "meanwhile: credit them on the invoice, the next run bills their new version",
        amount=amount,
        legal_entity=None,
        findings=[{"code": "invoice.line_changed", "record": r.source_key} for r in rows],
        trigger={"flow": FLOW, "input": {"project_id": planned.project_id}},
    )


def _invoice_line(
    s: Session, book: tm_ledger.LineBook, version: int, amount: Money, reference: str
) -> None:
    line: SourceLine = book.line
    if line.state is LineState.REBILLABLE:
        outcome = rebill(line, version, amount, reference)
        book = tm_ledger.append(s, book, outcome.entries, outcome.line)
        line = outcome.line
    if line.state is not LineState.POSTED or line.version != version:
        raise LedgerRefusal(f"{line.key}: posting changed since the invoice was planned")
    outcome = invoice(line, reference, amount)
    tm_ledger.append(s, book, outcome.entries, outcome.line)


def record_rejected(
    c: Container, planned: PlannedInvoice, kind: str, code: str, reason: str
) -> dict[str, Any]:
    """The ERP refused the invoice (or stayed down): its lines stay posted for a later run,
    and an exception says why and how much."""
    with c.db.session() as s:
        store.set_lines_state(s, planned.invoice_id, "rejected", planned.source_keys)
        invoice_row = s.get(InvoiceRow, planned.invoice_id)
        if invoice_row is not None:
            invoice_row.status = InvoiceStatus.REJECTED.value
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind=kind,
            correlation_id=planned.correlation_id,
            source_system="netsuite",
            source_record=f"tm-invoice:{planned.invoice_id}",
            reason_code=code,
            reason=f"invoice of {planned.net} not created: {reason}",
            amount=planned.net,
            legal_entity=None,
            findings=[{"code": code, "message": reason, "record": k} for k in planned.source_keys],
            trigger={"flow": FLOW, "input": {"project_id": planned.project_id}},
        )
    return {"invoice_id": planned.invoice_id, "status": "rejected", "exception_id": row.id}
