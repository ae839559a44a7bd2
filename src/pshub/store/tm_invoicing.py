"""Repositories for T&M invoicing: what a project may invoice, the invoices planned and made.

A T&M invoice is an ``invoices`` row (source "tm": payments and the receivables feed see it)
with its source lines in ``tm_invoice_lines``. Lines are read from the time-to-bill tables
(``billing_state``, ``billing_lines``) through their table classes; their meaning is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pshub.domain.ledger import LineState
from pshub.domain.money import Money
from pshub.domain.tm_invoicing import InvoiceableLine
from pshub.store.invoicing_tables import CreditedLineRow, InvoiceRow, TmInvoiceLineRow
from pshub.store.repos import utcnow
from pshub.store.tables import BillingHold, BillingLineRow, BillingState, BusinessException

OPEN_STATES = (LineState.POSTED.value, LineState.REBILLABLE.value)


@dataclass(frozen=True, slots=True)
class Candidate:
    line: InvoiceableLine
    state: LineState


def candidates(session: Session, project_id: str, period: str) -> list[Candidate]:
    """Posted or re-billable lines of a PSA project billed in ``period`` or before, not on
    an invoice still being made."""
    sources = select(BillingLineRow.source_key).where(BillingLineRow.project_id == project_id)
    states = {
        s.source_key: s
        for s in session.scalars(
            select(BillingState).where(
                BillingState.source_key.in_(sources), BillingState.state.in_(OPEN_STATES)
            )
        )
    }
    busy = set(
        session.scalars(
            select(TmInvoiceLineRow.source_key).where(
                TmInvoiceLineRow.project_id == project_id, TmInvoiceLineRow.state == "planned"
            )
        )
    )
    credited = _credited_versions(session, [k for k, s in states.items() if s.version is None])
    found: list[Candidate] = []
    for key, state in sorted(states.items()):
        version = state.version if state.version is not None else credited.get(key)
        if key in busy or version is None:
            continue
        line = _invoiceable(session, key, version, period)
        if line is not None:
            found.append(Candidate(line, LineState(state.state)))
    return found


def _credited_versions(session: Session, keys: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(CreditedLineRow.source_key, CreditedLineRow.version)
        .where(CreditedLineRow.source_key.in_(keys))
        .order_by(CreditedLineRow.at)
    )
    return {key: version for key, version in rows}


def _invoiceable(session: Session, key: str, version: int, period: str) -> InvoiceableLine | None:
    """The billable ERP line(s) of the posting ``version`` of ``key``, as one invoice line."""
    rows = session.scalars(
        select(BillingLineRow).where(
            BillingLineRow.source_key == key,
            BillingLineRow.version == version,
            BillingLineRow.action == "post",
            BillingLineRow.status == "posted",
        )
    ).all()
    billable = [r for r in rows if r.body.get("erp", {}).get("billable")]
    if not billable or min(r.period for r in billable) > period:
        return None
    erp: dict[str, Any] = billable[0].body["erp"]
    currency = billable[0].currency
    amount = sum((r.amount for r in billable), Decimal(0))
    hours = erp.get("hours")
    rate = erp.get("rate")
    what = f"{hours} h @ {rate}" if hours is not None else str(erp.get("memo", ""))
    return InvoiceableLine(
        source_key=key,
        version=version,
        amount=Money.of(amount, currency),
        period=min(r.period for r in billable),
        work_date=date.fromisoformat(erp["work_date"]),
        hours=None if hours is None else Decimal(hours),
        rate=None if rate is None else Money.of(rate, currency),
        description=f"{erp['kind']} {erp['work_date']} {what}",
    )


def held(
    session: Session, project_id: str, keys: Sequence[str]
) -> tuple[str | None, dict[str, str]]:
    """The project's hold reason (None: not held) and the entry holds among ``keys``."""
    rows = session.scalars(select(BillingHold).where(BillingHold.lifted_at.is_(None)))
    project: str | None = None
    entries: dict[str, str] = {}
    wanted = set(keys)
    for h in rows:
        if h.scope == "project" and h.target == project_id:
            project = h.reason
        elif h.scope == "entry" and h.target in wanted:
            entries[h.target] = h.reason
    return project, entries


def invoiced_total(session: Session, project_id: str, currency: str) -> Money:
    """Net invoiced over the project's lines (counts against its not-to-exceed cap)."""
    sources = select(BillingLineRow.source_key).where(BillingLineRow.project_id == project_id)
    rows = session.execute(
        select(BillingState.net_invoiced, BillingState.currency).where(
            BillingState.source_key.in_(sources)
        )
    )
    total = Decimal(0)
    for amount, cur in rows:
        if amount is not None and cur == currency:
            total += amount
    return Money.of(total, currency)


# --- planned and made invoices -----------------------------------------------------------------


def save_planned(
    session: Session, row: dict[str, Any], lines: Sequence[dict[str, Any]]
) -> InvoiceRow:
    """The hub's invoice and its lines before the ERP call; a replay (or a retry after the
    ERP refused it) finds the row and plans its lines again."""
    now = utcnow()
    invoice = session.get(InvoiceRow, row["invoice_id"])
    if invoice is None:
        invoice = InvoiceRow(**row, created_at=now, updated_at=now)
        session.add(invoice)
    for n, line in enumerate(lines, start=1):
        found = session.get(TmInvoiceLineRow, (row["invoice_id"], line["source_key"]))
        if found is None:
            session.add(TmInvoiceLineRow(**line, line_no=n, state="planned", updated_at=now))
        elif found.state == "rejected":
            found.state, found.updated_at = "planned", now
    session.flush()
    return invoice


def lines_of(session: Session, invoice_id: str, state: str | None = None) -> list[TmInvoiceLineRow]:
    query = select(TmInvoiceLineRow).where(TmInvoiceLineRow.invoice_id == invoice_id)
    if state is not None:
        query = query.where(TmInvoiceLineRow.state == state)
    return list(session.scalars(query.order_by(TmInvoiceLineRow.line_no)))


def set_lines_state(session: Session, invoice_id: str, state: str, keys: Sequence[str]) -> None:
    now = utcnow()
    for row in lines_of(session, invoice_id):
        if row.source_key in keys:
            row.state, row.updated_at = state, now


def tm_invoices(session: Session, project_id: str | None = None) -> list[InvoiceRow]:
    query = select(InvoiceRow).where(InvoiceRow.source == "tm")
    if project_id is not None:
        query = query.where(InvoiceRow.source_id.startswith(f"{project_id}:"))
    return list(session.scalars(query.order_by(InvoiceRow.created_at, InvoiceRow.invoice_id)))


def resolve_stale(session: Session, flow: str, prefix: str, current: set[str]) -> None:
    """Open exceptions under ``prefix`` whose reason did not come up again are resolved."""
    rows = session.scalars(
        select(BusinessException).where(
            BusinessException.flow == flow,
            BusinessException.source_record.startswith(prefix),
            BusinessException.status.in_(("open", "retrying")),
        )
    )
    for row in rows:
        if row.reason_code not in current:
            row.status, row.resolved_at = "resolved", utcnow()


def projects_with_open_lines(session: Session) -> list[str]:
    """PSA projects with posted or re-billable lines (what an invoicing run may take)."""
    open_sources = select(BillingState.source_key).where(BillingState.state.in_(OPEN_STATES))
    return sorted(
        set(
            session.scalars(
                select(BillingLineRow.project_id)
                .where(BillingLineRow.source_key.in_(open_sources))
                .distinct()
            )
        )
    )
