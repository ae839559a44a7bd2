"""What the NetSuite connector takes and gives for time, expenses, billing and journals.

Vendor-neutral, frozen models: flows build these from canonical records; the connector maps
them to NetSuite bodies (:mod:`.ledger_mapping`). Amounts are :class:`Money`, hours ``Decimal``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from pshub.domain.findings import Finding
from pshub.domain.money import Money
from pshub.flows.invoicing_ports import ErpCreditMemoDraft, ErpInvoiceDraft, ErpInvoiceLine
from pshub.flows.ports import ErpJournalDraft, ErpJournalLine

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TimeBillLine(BaseModel):
    """One approved time entry to post as a NetSuite time bill (``timeBill``).

    ``external_id`` is the canonical time-entry id (the connector derives the vendor external
    id from it). ``reverses``: the canonical id of an earlier line this one cancels. NetSuite
    refuses negative durations, so a reversal follows NetSuite's practice of correcting the
    original time bill: the original (by its external id) is updated to zero hours and not
    billable; no second record is created. ``amount`` is not sent: NetSuite derives it from
    hours x rate. ``tax_code`` is kept for the invoice; time bills carry no tax code.
    """

    model_config = _FROZEN

    external_id: str
    customer_job_id: str
    employee_ref: str
    date: date
    hours: Decimal
    rate: Money
    amount: Money
    billable: bool = True
    task: str | None = None
    item: str = "1"
    tax_code: str | None = None
    subsidiary_id: str | None = None
    memo: str | None = None
    reverses: str | None = None


class ExpenseLine(BaseModel):
    """One billable expense, posted as an expense report (``expenseReport``) with one line."""

    model_config = _FROZEN

    external_id: str
    employee_ref: str
    customer_job_id: str | None = None
    date: date
    amount: Money
    category_id: str
    billable: bool = True
    subsidiary_id: str | None = None
    memo: str | None = None


class PostResult(BaseModel):
    """What happened to one record of a bulk write: posted (with its internal id) or refused."""

    model_config = _FROZEN

    external_id: str  # the canonical id the caller gave
    posted: bool
    internal_id: str | None = None
    record_type: str = ""
    error: Finding | None = None  # why NetSuite refused it; ``error.field`` names the field

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.error.field,) if self.error and self.error.field else ()


InvoiceLine = ErpInvoiceLine  # the port's own type (pshub.flows.invoicing_ports)


InvoiceDraft = ErpInvoiceDraft  # the port's own type (pshub.flows.invoicing_ports)


class InvoiceView(BaseModel):
    model_config = _FROZEN

    internal_id: str
    tran_id: str
    canonical_id: str | None
    status: str  # NetSuite's status name: "Open", "Paid In Full", "Pending Approval" ...
    approval_status: str | None
    total: Money
    amount_remaining: Money
    lines: tuple[InvoiceLine, ...]
    posting_period_id: str | None


CreditMemoDraft = ErpCreditMemoDraft  # the port's own type (pshub.flows.invoicing_ports)


class CreditMemoView(BaseModel):
    """A credit memo as read back: the invoice it was created from or applied to, its lines."""

    model_config = _FROZEN

    internal_id: str
    tran_id: str
    canonical_id: str | None
    invoice_internal_ids: tuple[str, ...]  # createdFrom first, then applied invoices
    total: Money
    tran_date: date
    last_modified: str
    lines: tuple[InvoiceLine, ...]


class PaymentApplication(BaseModel):
    model_config = _FROZEN

    invoice_internal_id: str
    amount: Money


class PaymentDraft(BaseModel):
    model_config = _FROZEN

    canonical_id: str
    customer_id: str
    amount: Money
    tran_date: date
    applications: tuple[PaymentApplication, ...]
    memo: str | None = None


class PaymentView(BaseModel):
    model_config = _FROZEN

    internal_id: str
    canonical_id: str | None
    customer_id: str
    amount: Money
    applied: Money
    tran_date: date
    last_modified: str
    applications: tuple[PaymentApplication, ...]


# Journals: the port's own types (the close posts them as they are).
JournalLine = ErpJournalLine
JournalDraft = ErpJournalDraft


class AccountingPeriod(BaseModel):
    model_config = _FROZEN

    internal_id: str
    name: str
    start: date
    end: date
    closed: bool
