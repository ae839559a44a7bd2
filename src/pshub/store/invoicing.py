"""Repositories for invoicing: milestone completions, invoices, payments, receivables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pshub.domain.invoicing import InvoicePlan, InvoiceStatus, Receivable, aging_bucket
from pshub.domain.money import Money
from pshub.store.invoicing_tables import InvoiceRow, MilestoneBillingRow, PaymentRow
from pshub.store.repos import utcnow
from pshub.store.tables import CrossReference

OPEN_STATES = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value)


def canonical_of(session: Session, entity_type: str, system: str, system_id: str) -> str | None:
    """The canonical id of a record of ``entity_type`` known in ``system`` as ``system_id``."""
    return session.scalars(
        select(CrossReference.canonical_id).where(
            CrossReference.entity_type == entity_type,
            CrossReference.system == system,
            CrossReference.system_id == system_id,
        )
    ).first()


# --- milestone completions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """A milestone completion read from the PSA feed, resolved to canonical ids."""

    milestone_id: str
    project_id: str
    psa_project_id: str
    psa_story_id: str
    completed_at: datetime
    event: str


def record_completion(session: Session, done: Completion) -> bool:
    """Keep a completion; True when it is new (a redelivery only counts the delivery)."""
    row = session.get(MilestoneBillingRow, done.milestone_id)
    now = utcnow()
    if row is not None and row.completed_at is not None:
        row.deliveries += 1
        return False
    if row is None:
        row = MilestoneBillingRow(
            milestone_id=done.milestone_id, attempt=1, deliveries=0, updated_at=now
        )
        session.add(row)
    row.project_id, row.psa_project_id = done.project_id, done.psa_project_id
    row.psa_story_id, row.completed_at = done.psa_story_id, done.completed_at
    row.completion_event, row.status, row.updated_at = done.event, "queued", now
    row.deliveries += 1
    session.flush()
    return True


def record_acceptance(session: Session, milestone_id: str, by: str, at: datetime) -> bool:
    """Note the customer's acceptance; True when the milestone was already completed."""
    row = session.get(MilestoneBillingRow, milestone_id)
    if row is None:  # accepted before the PSA reported completion
        row = MilestoneBillingRow(
            milestone_id=milestone_id,
            project_id="",
            psa_project_id="",
            psa_story_id="",
            status="open",
            attempt=1,
            deliveries=0,
            updated_at=at,
        )
        session.add(row)
    row.accepted_at, row.accepted_by, row.updated_at = at, by, utcnow()
    session.flush()
    return row.completed_at is not None


def milestone_row(session: Session, milestone_id: str) -> MilestoneBillingRow | None:
    return session.get(MilestoneBillingRow, milestone_id)


def milestones_in(session: Session, statuses: Iterable[str]) -> Sequence[MilestoneBillingRow]:
    return session.scalars(
        select(MilestoneBillingRow)
        .where(MilestoneBillingRow.status.in_(tuple(statuses)))
        .order_by(MilestoneBillingRow.completed_at, MilestoneBillingRow.milestone_id)
    ).all()


def set_milestone_status(
    session: Session,
    milestone_id: str,
    status: str,
    *,
    reason: str | None = None,
    invoice_id: str | None = None,
) -> None:
    row = session.get(MilestoneBillingRow, milestone_id)
    if row is None:
        return
    row.status, row.reason, row.updated_at = status, reason, utcnow()
    if invoice_id is not None:
        row.invoice_id = invoice_id


def next_attempt(session: Session, milestone_id: str) -> int:
    """Queue the milestone again under a new attempt (a new workflow id); returns it."""
    row = session.get(MilestoneBillingRow, milestone_id)
    assert row is not None
    row.attempt, row.status, row.updated_at = row.attempt + 1, "queued", utcnow()
    return row.attempt


def invoiced_milestones(session: Session, project_id: str) -> frozenset[str]:
    rows = session.scalars(
        select(InvoiceRow.source_id).where(
            InvoiceRow.project_id == project_id,
            InvoiceRow.source == "milestone",
            InvoiceRow.erp_id.is_not(None),
        )
    )
    return frozenset(rows)


# --- invoices ----------------------------------------------------------------------------------


def save_planned_invoice(
    session: Session, plan: InvoicePlan, opportunity_id: str | None, correlation_id: str
) -> InvoiceRow:
    """The hub's row for a planned invoice (kept as is when it exists: a replay)."""
    row = session.get(InvoiceRow, plan.invoice_id)
    if row is not None:
        return row
    now = utcnow()
    row = InvoiceRow(
        invoice_id=plan.invoice_id,
        source="milestone",
        source_id=plan.milestone_id,
        project_id=plan.project_id,
        contract_id=plan.contract_id,
        opportunity_id=opportunity_id,
        legal_entity=plan.legal_entity,
        currency=plan.currency,
        net=plan.net.amount,
        tax=plan.tax.amount,
        tax_code=plan.tax_code,
        status=InvoiceStatus.OPEN.value,
        invoice_date=plan.tran_date,
        due_date=plan.due_date,
        correlation_id=correlation_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_invoice(session: Session, invoice_id: str) -> InvoiceRow | None:
    return session.get(InvoiceRow, invoice_id)


def first_invoice_created(session: Session) -> datetime | None:
    return session.scalar(select(func.min(InvoiceRow.created_at)))


def invoice_by_erp(session: Session, erp_id: str) -> InvoiceRow | None:
    return session.scalars(select(InvoiceRow).where(InvoiceRow.erp_id == erp_id)).first()


def update_invoice(
    session: Session,
    invoice_id: str,
    *,
    erp_id: str,
    number: str,
    erp_status: str,
    status: InvoiceStatus,
    total: Decimal,
    remaining: Decimal,
) -> bool:
    """Store what the ERP says of the invoice; True when the hub's status changed."""
    row = session.get(InvoiceRow, invoice_id)
    assert row is not None
    changed = row.status != status.value or row.remaining != remaining
    row.erp_id, row.number, row.erp_status = erp_id, number, erp_status
    row.status, row.total, row.remaining = status.value, total, remaining
    row.updated_at = utcnow()
    return changed


def set_psa_billing_milestone(session: Session, invoice_id: str, billing_milestone: str) -> None:
    row = session.get(InvoiceRow, invoice_id)
    if row is not None:
        row.psa_billing_milestone_id = billing_milestone


def deal_invoices(session: Session, opportunity_id: str) -> list[tuple[Money, Money]]:
    """``(total, remaining)`` of every ERP invoice of a deal."""
    rows = session.scalars(
        select(InvoiceRow).where(
            InvoiceRow.opportunity_id == opportunity_id, InvoiceRow.erp_id.is_not(None)
        )
    )
    return [
        (Money.of(r.total or 0, r.currency), Money.of(r.remaining or 0, r.currency)) for r in rows
    ]


# --- payments and receivables ------------------------------------------------------------------


def record_payment(
    session: Session,
    *,
    erp_payment_id: str,
    invoice_erp_id: str,
    amount: Money,
    payment_date: date,
    erp_modified: str,
) -> tuple[str | None, bool]:
    """Keep one application of a payment: the hub invoice it pays (None: not ours) and
    whether this version of the payment is new to the hub."""
    invoice = invoice_by_erp(session, invoice_erp_id)
    row = session.scalars(
        select(PaymentRow).where(
            PaymentRow.erp_payment_id == erp_payment_id,
            PaymentRow.invoice_erp_id == invoice_erp_id,
        )
    ).first()
    fresh = row is None or (row.erp_modified, row.amount) != (erp_modified, amount.amount)
    if row is None:
        row = PaymentRow(erp_payment_id=erp_payment_id, invoice_erp_id=invoice_erp_id)
        session.add(row)
    row.invoice_id = invoice.invoice_id if invoice else None
    row.amount, row.currency = amount.amount, amount.currency
    row.payment_date, row.erp_modified, row.updated_at = payment_date, erp_modified, utcnow()
    session.flush()
    return row.invoice_id, fresh


def payments_for(session: Session, invoice_id: str) -> Sequence[PaymentRow]:
    return session.scalars(
        select(PaymentRow).where(PaymentRow.invoice_id == invoice_id).order_by(PaymentRow.id)
    ).all()


def open_receivables(session: Session, as_of: date) -> list[Receivable]:
    """Invoices with money still to come, oldest due first: the forecast's receivables feed."""
    rows = session.scalars(
        select(InvoiceRow)
        .where(InvoiceRow.status.in_(OPEN_STATES), InvoiceRow.erp_id.is_not(None))
        .order_by(InvoiceRow.due_date, InvoiceRow.invoice_id)
    )
    return [
        Receivable(
            invoice_id=r.invoice_id,
            invoice_number=r.number or "",
            project_id=r.project_id,
            legal_entity=r.legal_entity,
            status=InvoiceStatus(r.status),
            total=Money.of(r.total or 0, r.currency),
            remaining=Money.of(r.remaining or 0, r.currency),
            invoice_date=r.invoice_date,
            due_date=r.due_date,
            bucket=aging_bucket(r.due_date, as_of),
        )
        for r in rows
    ]
