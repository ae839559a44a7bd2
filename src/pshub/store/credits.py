"""Repositories for credit notes: credit memos against the hub's invoices and the lines they
returned to re-billable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pshub.domain.money import Money
from pshub.store.invoicing_tables import CreditedLineRow, CreditNoteRow, InvoiceRow
from pshub.store.repos import utcnow
from pshub.store.tables import PollCursor


@dataclass(frozen=True)
class MemoRead:
    """A credit memo as the ERP returned it, in plain values."""

    erp_id: str
    number: str
    credit_note_id: str
    invoice_erp_ids: tuple[str, ...]
    total: Money
    modified: str
    lines: tuple[tuple[str | None, Money], ...]  # (description, amount)


def our_invoice(session: Session, erp_ids: Sequence[str]) -> InvoiceRow | None:
    for erp_id in erp_ids:
        row = session.scalars(select(InvoiceRow).where(InvoiceRow.erp_id == erp_id)).first()
        if row is not None:
            return row
    return None


def receive(
    session: Session, memo: MemoRead, *, origin: str, reason: str | None = None
) -> tuple[CreditNoteRow | None, bool]:
    """Keep a credit memo against one of the hub's invoices: its row (None: not ours) and
    whether this version is new to the hub (a re-read of the same version is not)."""
    invoice = our_invoice(session, memo.invoice_erp_ids)
    if invoice is None:
        return None, False
    row = session.get(CreditNoteRow, memo.erp_id)
    now = utcnow()
    fresh = row is None or row.erp_modified != memo.modified
    if row is None:
        row = CreditNoteRow(
            erp_id=memo.erp_id,
            credit_note_id=memo.credit_note_id,
            invoice_id=invoice.invoice_id,
            origin=origin,
            reason=reason,
            status="received",
            correlation_id=invoice.correlation_id,
            created_at=now,
        )
        session.add(row)
    row.number, row.total, row.currency = memo.number, memo.total.amount, memo.total.currency
    row.erp_modified, row.updated_at = memo.modified, now
    row.lines = {"items": [{"description": d, "amount": str(a.amount)} for d, a in memo.lines]}
    session.flush()
    return row, fresh


def memo_lines(row: CreditNoteRow) -> list[tuple[str | None, Money]]:
    return [
        (item.get("description"), Money.of(item["amount"], row.currency))
        for item in row.lines.get("items", [])
    ]


def credit_note(session: Session, erp_id: str) -> CreditNoteRow | None:
    return session.get(CreditNoteRow, erp_id)


def was_credited(session: Session, erp_id: str, source_key: str) -> bool:
    return session.get(CreditedLineRow, (erp_id, source_key)) is not None


def add_credited(
    session: Session, erp_id: str, invoice_id: str, source_key: str, version: int, amount: Money
) -> None:
    session.add(
        CreditedLineRow(
            erp_id=erp_id,
            source_key=source_key,
            invoice_id=invoice_id,
            version=version,
            amount=amount.amount,
            currency=amount.currency,
            at=utcnow(),
        )
    )
    session.flush()


def credited_total(session: Session, invoice_id: str, currency: str) -> Money:
    """What the credit notes read from the ERP credit on the invoice (gross, as the ERP)."""
    total = session.scalar(
        select(func.coalesce(func.sum(CreditNoteRow.total), 0)).where(
            CreditNoteRow.invoice_id == invoice_id
        )
    )
    return Money.of(Decimal(str(total or 0)), currency)


def counts(session: Session) -> dict[str, Any]:
    """Credit notes and credited lines (the demo's summary)."""
    notes = session.scalar(select(func.count()).select_from(CreditNoteRow)) or 0
    lines = session.scalar(select(func.count()).select_from(CreditedLineRow)) or 0
    return {"credit_notes": int(notes), "credited_lines": int(lines)}


def get_cursor(session: Session, name: str) -> str | None:
    row = session.get(PollCursor, name)
    return None if row is None else row.cursor


def set_cursor(session: Session, name: str, cursor: str | None) -> None:
    row = session.get(PollCursor, name)
    if row is None:
        session.add(PollCursor(name=name, cursor=cursor, updated_at=utcnow()))
    else:
        row.cursor, row.updated_at = cursor, utcnow()
