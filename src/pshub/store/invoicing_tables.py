"""ORM rows for invoicing: milestone completions (the inbox of milestone billing), invoices
(the hub's copy of each ERP invoice, also the receivables feed) and customer payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

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
    source: Mapped[str] = mapped_column(String(16))  # milestone (time & materials later)
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
