"""The ports milestone billing and payments call, met structurally by the connectors.

The NetSuite connector's ``InvoiceLine`` / ``InvoiceDraft`` / ``CreditMemoDraft`` *are*
:class:`ErpInvoiceLine` / :class:`ErpInvoiceDraft` / :class:`ErpCreditMemoDraft`, and its
``get_invoice`` / ``list_payments`` answers have the attributes named below; Kantata's
``create_billing_milestone`` / ``set_milestone_invoice_status`` and Salesforce's
``update_opportunity`` are used as they are. Flows never import a connector (the layer rule):
these Protocols are the contract, and in-memory fakes can implement them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from pshub.domain.invoicing import DealBilling, InvoicePlan
from pshub.domain.money import Money

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ErpInvoiceLine(BaseModel):
    model_config = _FROZEN

    item_id: str
    quantity: Decimal
    rate: Money
    amount: Money
    tax_code_id: str | None = None
    description: str | None = None


class ErpInvoiceDraft(BaseModel):
    """An invoice to upsert by ``canonical_id`` under the customer's job (project)."""

    model_config = _FROZEN

    canonical_id: str
    customer_job_id: str
    currency: str
    tran_date: date
    lines: tuple[ErpInvoiceLine, ...]
    subsidiary_id: str | None = None
    posting_period_id: str | None = None
    memo: str | None = None
    pending_approval: bool = False


class ErpCreditMemoDraft(BaseModel):
    """A credit memo created from an invoice (the ERP applies it to that invoice)."""

    model_config = _FROZEN

    canonical_id: str
    invoice_internal_id: str
    tran_date: date
    lines: tuple[ErpInvoiceLine, ...]
    memo: str | None = None


def invoice_draft(plan: InvoicePlan, job_id: str) -> ErpInvoiceDraft:
    line = ErpInvoiceLine(
        item_id=plan.item_id,
        quantity=Decimal(1),
        rate=plan.net,
        amount=plan.net,
        tax_code_id=plan.tax_code_id,
        description=plan.description,
    )
    return ErpInvoiceDraft(
        canonical_id=plan.invoice_id,
        customer_job_id=job_id,
        currency=plan.currency,
        tran_date=plan.tran_date,
        lines=(line,),
        subsidiary_id=plan.subsidiary_id,
        memo=f"{plan.description}; tax {plan.tax_code}",
        pending_approval=plan.pending_approval,
    )


class ErpInvoice(BaseModel):
    """The ERP's invoice as the hub keeps it (number, status, totals)."""

    model_config = _FROZEN

    erp_id: str
    number: str
    erp_status: str
    total: Money
    remaining: Money


class ErpPayment(BaseModel):
    """One application of a customer payment to an invoice."""

    model_config = _FROZEN

    erp_payment_id: str
    invoice_erp_id: str
    amount: Money
    payment_date: date
    modified: str


class _InvoiceView(Protocol):
    @property
    def internal_id(self) -> str: ...
    @property
    def tran_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def total(self) -> Money: ...
    @property
    def amount_remaining(self) -> Money: ...


class _Application(Protocol):
    @property
    def invoice_internal_id(self) -> str: ...
    @property
    def amount(self) -> Money: ...


class _PaymentView(Protocol):
    @property
    def internal_id(self) -> str: ...
    @property
    def tran_date(self) -> date: ...
    @property
    def last_modified(self) -> str: ...
    @property
    def applications(self) -> Sequence[_Application]: ...


class ErpInvoicingPort(Protocol):
    system: str

    def create_invoice(self, draft: Any) -> str: ...

    def get_invoice(self, internal_id: str) -> _InvoiceView: ...

    def list_payments(self, since: datetime) -> Sequence[_PaymentView]: ...


class PsaInvoicingPort(Protocol):
    system: str

    def create_billing_milestone(
        self, workspace_id: str, story_id: str, title: str, amount: Money, milestone_id: str
    ) -> str: ...

    def set_milestone_invoice_status(
        self, billing_milestone_id: str, invoice_number: str, status: str
    ) -> None: ...


class CrmInvoicingPort(Protocol):
    system: str

    def update_opportunity(self, opportunity_id: str, fields: Mapping[str, Any]) -> None: ...


def erp_invoice(view: _InvoiceView) -> ErpInvoice:
    return ErpInvoice(
        erp_id=view.internal_id,
        number=view.tran_id,
        erp_status=view.status,
        total=view.total,
        remaining=view.amount_remaining,
    )


def erp_payments(views: Sequence[_PaymentView]) -> list[ErpPayment]:
    return [
        ErpPayment(
            erp_payment_id=v.internal_id,
            invoice_erp_id=a.invoice_internal_id,
            amount=a.amount,
            payment_date=v.tran_date,
            modified=v.last_modified,
        )
        for v in views
        for a in v.applications
    ]


# Opportunity custom fields for billing (the Salesforce sandbox schema declares them).
def opportunity_billing_fields(number: str, status: str, deal: DealBilling) -> dict[str, Any]:
    return {
        "Last_Invoice_Number__c": number,
        "Last_Invoice_Status__c": status,
        "Invoiced_Amount__c": deal.invoiced.rounded().amount,
        "Paid_Amount__c": deal.paid.rounded().amount,
        "Billing_Status__c": deal.status,
    }
