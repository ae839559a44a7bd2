"""ORM rows for invoicing: milestone completions (the inbox of milestone billing), invoices
(the hub's copy of each ERP invoice, also the receivables feed), customer payments, the source
lines of T&M invoices, and credit notes with the lines they returned to re-billable."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pshub.store.tables import Base


class MilestoneBillingRow(Base):
    """One row per milestone: its completion as the PSA reported it and where billing stands.

    ``status``: queued (a workflow is on its way) | blocked (findings; re-checked on every
    feed poll) | invoiced | failed (vendor refusal or dead letter; replay from the exception).
    A redelivered completion finds the row and changes nothing.
    """

    __tablename__ = "milestone_billings"

    milestone_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(80))  # canonical
    psa_project_id: Mapped[str] = mapped_column(String(80))
    psa_story_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    completed_at: Mapped[datetime | None]
    completion_event: Mapped[str | None] = mapped_column(String(80))  # feed cursor
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    invoice_id: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_milestone_billings_status", "status"),
        Index("ix_milestone_billings_project", "project_id"),
    )


class InvoiceRow(Base):
    """An invoice the hub created in the ERP, with the ERP's number, totals and status."""

    __tablename__ = "invoices"

    invoice_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # canonical
    source: Mapped[str] = mapped_column(String(16))  # milestone | tm
    source_id: Mapped[str] = mapped_column(String(80))  # e.g. the milestone's canonical id
    project_id: Mapped[str] = mapped_column(String(80))
    contract_id: Mapped[str] = mapped_column(String(80))
    opportunity_id: Mapped[str | None] = mapped_column(String(80))  # CRM id
    legal_entity: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal]
    tax: Mapped[Decimal]  # the hub's expectation from the tax profile
    tax_code: Mapped[str] = mapped_column(String(40))
    total: Mapped[Decimal | None]  # as the ERP computed it
    remaining: Mapped[Decimal | None]
    erp_id: Mapped[str | None] = mapped_column(String(80))
    number: Mapped[str | None] = mapped_column(String(80))
    erp_status: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # InvoiceStatus
    invoice_date: Mapped[date]
    due_date: Mapped[date]
    psa_billing_milestone_id: Mapped[str | None] = mapped_column(String(80))
    correlation_id: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_invoices_erp", "erp_id"),
        Index("ix_invoices_status", "status"),
        Index("ix_invoices_opportunity", "opportunity_id"),
    )


class PaymentRow(Base):
    """One application of a customer payment to an invoice, as last read from the ERP."""

    __tablename__ = "invoice_payments"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    erp_payment_id: Mapped[str] = mapped_column(String(80))
    invoice_erp_id: Mapped[str] = mapped_column(String(80))
    invoice_id: Mapped[str | None] = mapped_column(String(80))  # canonical, when the hub's
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    payment_date: Mapped[date]
    erp_modified: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("erp_payment_id", "invoice_erp_id", name="uq_invoice_payments"),
        Index("ix_invoice_payments_invoice", "invoice_id"),
    )


class TmInvoiceLineRow(Base):
    """One source line on a T&M invoice (the invoice itself is an ``invoices`` row with
    source "tm"). ``state``: planned (the ERP call is on its way) | invoiced | rejected."""

    __tablename__ = "tm_invoice_lines"

    invoice_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[str] = mapped_column(String(80))  # PSA project id
    period: Mapped[str] = mapped_column(String(7))  # the run's period
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text)
    rebill: Mapped[bool]  # billed again after a credit
    state: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_tm_invoice_lines_source", "source_key"),
        Index("ix_tm_invoice_lines_project_state", "project_id", "state"),
    )


class CreditNoteRow(Base):
    """A credit memo against one of the hub's invoices, as last read from the ERP (or issued
    by the hub). ``status``: received | applied (lines returned) | exception."""

    __tablename__ = "credit_notes"

    erp_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    credit_note_id: Mapped[str] = mapped_column(String(80))  # canonical
    invoice_id: Mapped[str] = mapped_column(String(80))
    number: Mapped[str | None] = mapped_column(String(80))
    total: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    origin: Mapped[str] = mapped_column(String(10))  # erp | hub
    reason: Mapped[str | None] = mapped_column(Text)
    erp_modified: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    lines: Mapped[dict[str, Any]]  # the memo's lines as read: {"items": [...]}
    correlation_id: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_credit_notes_invoice", "invoice_id"),)


class CreditedLineRow(Base):
    """A source line a credit memo credited in full: it became re-billable. The primary key
    makes a redelivered or replayed memo credit a line once."""

    __tablename__ = "credited_lines"

    erp_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the credit memo
    source_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)  # the credited posting's version
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_credited_lines_source", "source_key"),)
