"""Time, expense, billing and journal records <-> NetSuite bodies: plain functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pshub.connectors.netsuite.mapping import canonical_from_external
from pshub.connectors.netsuite.models import NsLine, NsPeriod, NsTransaction
from pshub.connectors.netsuite.schemas import (
    AccountingPeriod,
    CreditMemoDraft,
    CreditMemoView,
    ExpenseLine,
    InvoiceDraft,
    InvoiceLine,
    InvoiceView,
    JournalDraft,
    PaymentApplication,
    PaymentDraft,
    PaymentView,
    TimeBillLine,
)
from pshub.domain.ids import external_id
from pshub.domain.money import Money

PENDING_APPROVAL = {"id": "1"}
APPROVED = {"id": "2"}


def _ref(value: str | None) -> dict[str, str] | None:
    return None if value is None else {"id": value}


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def time_bill_body(line: TimeBillLine) -> dict[str, Any]:
    """The ``timeBill`` a line upserts. A reversal zeroes the original (see TimeBillLine)."""
    target = line.reverses or line.external_id
    body = {
        "externalId": external_id(target),
        "employee": _ref(line.employee_ref),
        "customer": _ref(line.customer_job_id),
        "caseTaskEvent": _ref(line.task),
        "tranDate": line.date.isoformat(),
        "hours": line.hours,
        "rate": line.rate.amount,
        "isBillable": line.billable,
        "item": _ref(line.item),
        "subsidiary": _ref(line.subsidiary_id),
        "memo": line.memo,
    }
    if line.reverses is not None:
        body.update(
            hours=Decimal(0),
            isBillable=False,
            memo=f"Reversed by {external_id(line.external_id)}",
        )
    return _drop_none(body)


def expense_body(line: ExpenseLine, currency_id: str) -> dict[str, Any]:
    """An expense report with one billable expense line."""
    expense = _drop_none(
        {
            "expenseDate": line.date.isoformat(),
            "category": _ref(line.category_id),
            "amount": line.amount.amount,
            "currency": _ref(currency_id),
            "isBillable": line.billable,
            "customer": _ref(line.customer_job_id),
            "memo": line.memo,
        }
    )
    return _drop_none(
        {
            "externalId": external_id(line.external_id),
            "entity": _ref(line.employee_ref),
            "tranDate": line.date.isoformat(),
            "subsidiary": _ref(line.subsidiary_id),
            "memo": line.memo,
            "expense": {"items": [expense]},
        }
    )


def _item_lines(lines: tuple[InvoiceLine, ...]) -> dict[str, Any]:
    return {
        "items": [
            _drop_none(
                {
                    "item": _ref(line.item_id),
                    "quantity": line.quantity,
                    "rate": line.rate.amount,
                    "amount": line.amount.amount,
                    "taxCode": _ref(line.tax_code_id),
                    "description": line.description,
                }
            )
            for line in lines
        ]
    }


def invoice_body(draft: InvoiceDraft, currency_id: str) -> dict[str, Any]:
    return _drop_none(
        {
            "entity": _ref(draft.customer_job_id),
            "subsidiary": _ref(draft.subsidiary_id),
            "currency": _ref(currency_id),
            "tranDate": draft.tran_date.isoformat(),
            "postingPeriod": _ref(draft.posting_period_id),
            "memo": draft.memo,
            "approvalStatus": PENDING_APPROVAL if draft.pending_approval else APPROVED,
            "item": _item_lines(draft.lines),
        }
    )


def credit_memo_body(draft: CreditMemoDraft) -> dict[str, Any]:
    return _drop_none(
        {
            "createdFrom": _ref(draft.invoice_internal_id),
            "tranDate": draft.tran_date.isoformat(),
            "memo": draft.memo,
            "item": _item_lines(draft.lines),
        }
    )


def payment_body(draft: PaymentDraft) -> dict[str, Any]:
    applications = [
        {"doc": _ref(a.invoice_internal_id), "apply": True, "amount": a.amount.amount}
        for a in draft.applications
    ]
    return _drop_none(
        {
            "customer": _ref(draft.customer_id),
            "payment": draft.amount.amount,
            "tranDate": draft.tran_date.isoformat(),
            "memo": draft.memo,
            "apply": {"items": applications},
        }
    )


def journal_body(draft: JournalDraft, currency_id: str) -> dict[str, Any]:
    lines = [
        _drop_none(
            {
                "account": _ref(line.account_id),
                "debit": line.debit.amount if line.debit else None,
                "credit": line.credit.amount if line.credit else None,
                "memo": line.memo,
                "entity": _ref(line.entity_id),
            }
        )
        for line in draft.lines
    ]
    return _drop_none(
        {
            "subsidiary": _ref(draft.subsidiary_id),
            "currency": _ref(currency_id),
            "tranDate": draft.tran_date.isoformat(),
            "postingPeriod": _ref(draft.posting_period_id),
            "memo": draft.memo,
            "approvalStatus": PENDING_APPROVAL if draft.pending_approval else APPROVED,
            "line": {"items": lines},
        }
    )


def _money(value: Decimal | None, currency: str) -> Money:
    return Money.of(value if value is not None else Decimal(0), currency)


def invoice_view(record: NsTransaction, currency: str) -> InvoiceView:
    return InvoiceView(
        internal_id=record.id,
        tran_id=record.tran_id or "",
        canonical_id=canonical_from_external(record.external_id),
        status=(record.status.ref_name if record.status else None) or "",
        approval_status=record.approval_status.ref_name if record.approval_status else None,
        total=_money(record.total, currency),
        amount_remaining=_money(record.amount_remaining, currency),
        lines=tuple(_invoice_line(line, currency) for line in (record.item or _EMPTY).items),
        posting_period_id=record.posting_period.id if record.posting_period else None,
    )


def _invoice_line(line: NsLine, currency: str) -> InvoiceLine:
    return InvoiceLine(
        item_id=line.item.id if line.item else "",
        quantity=line.quantity if line.quantity is not None else Decimal(1),
        rate=_money(line.rate, currency),
        amount=_money(line.amount, currency),
        tax_code_id=line.tax_code.id if line.tax_code else None,
        description=line.description,
    )


def payment_view(record: NsTransaction, currency: str) -> PaymentView:
    applications = tuple(
        PaymentApplication(invoice_internal_id=line.doc.id, amount=_money(line.amount, currency))
        for line in (record.apply or _EMPTY).items
        if line.apply and line.doc is not None
    )
    return PaymentView(
        internal_id=record.id,
        canonical_id=canonical_from_external(record.external_id),
        customer_id=record.customer.id if record.customer else "",
        amount=_money(record.payment, currency),
        applied=_money(record.applied, currency),
        tran_date=date.fromisoformat(record.tran_date or "1970-01-01"),
        last_modified=record.last_modified,
        applications=applications,
    )


def credit_memo_view(record: NsTransaction, currency: str) -> CreditMemoView:
    invoices = [record.created_from.id] if record.created_from else []
    invoices += [
        line.doc.id
        for line in (record.apply or _EMPTY).items
        if line.apply and line.doc is not None and line.doc.id not in invoices
    ]
    return CreditMemoView(
        internal_id=record.id,
        tran_id=record.tran_id or "",
        canonical_id=canonical_from_external(record.external_id),
        invoice_internal_ids=tuple(invoices),
        total=_money(record.total, currency),
        tran_date=date.fromisoformat(record.tran_date or "1970-01-01"),
        last_modified=record.last_modified,
        lines=tuple(_invoice_line(line, currency) for line in (record.item or _EMPTY).items),
    )


def period(record: NsPeriod) -> AccountingPeriod:
    return AccountingPeriod(
        internal_id=record.id,
        name=record.period_name,
        start=date.fromisoformat(record.start_date),
        end=date.fromisoformat(record.end_date),
        closed=record.closed,
    )


class _Empty:
    items: list[NsLine] = []


_EMPTY = _Empty()
