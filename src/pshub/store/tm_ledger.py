"""The billing-state ledger as T&M invoicing and credit notes write it.

Reads and appends through the table classes of :mod:`pshub.store.tables` (``billing_state``,
``billing_ledger``) and the pure transitions of :mod:`pshub.domain.ledger`, in the caller's
transaction. The ledger's (source, seq) unique constraint makes a concurrent second writer of
the same line (a billing run posting a new version) fail rather than double-book.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from pshub.domain.ledger import Action, LedgerEntry, LineState, SourceLine
from pshub.domain.money import Money
from pshub.store.repos import utcnow
from pshub.store.tables import BillingLedgerEntry, BillingState

CHUNK = 500


@dataclass(frozen=True, slots=True)
class LineBook:
    """A line's state, how many ledger entries it has, and its invoice / credit counts."""

    line: SourceLine
    seq: int
    invoices: int
    credits: int


def load(session: Session, keys: Sequence[str]) -> dict[str, LineBook]:
    """The books of the lines that have a billing state (unknown keys are left out)."""
    found: dict[str, LineBook] = {}
    keys = sorted(set(keys))
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i : i + CHUNK]
        counts = _counts(session, chunk)
        for row in session.scalars(select(BillingState).where(BillingState.source_key.in_(chunk))):
            invoices, credits = counts.get(row.source_key, (0, 0))
            found[row.source_key] = LineBook(_line(row), row.entries, invoices, credits)
    return found


def _line(row: BillingState) -> SourceLine:
    cur = row.currency
    return SourceLine(
        key=row.source_key,
        state=LineState(row.state),
        version=row.version,
        amount=None if row.amount is None or cur is None else Money.of(row.amount, cur),
        net_invoiced=None
        if row.net_invoiced is None or cur is None
        else Money.of(row.net_invoiced, cur),
        highest_version=row.highest_version,
    )


def _counts(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    t = BillingLedgerEntry
    rows = session.execute(
        select(t.source_key, t.action, func.count())
        .where(t.source_key.in_(keys), t.action.in_((Action.INVOICE.value, Action.CREDIT.value)))
        .group_by(t.source_key, t.action)
    )
    counts: dict[str, list[int]] = {}
    for key, action, n in rows:
        pair = counts.setdefault(key, [0, 0])
        pair[0 if action == Action.INVOICE.value else 1] = int(n)
    return {k: (v[0], v[1]) for k, v in counts.items()}


def append(
    session: Session, book: LineBook, entries: Sequence[LedgerEntry], line: SourceLine
) -> LineBook:
    """Append one line's entries and store its new state; returns the new book."""
    if not entries:
        return book
    now = utcnow()
    seq = book.seq
    invoices, credits = book.invoices, book.credits
    for e in entries:
        seq += 1
        invoices += e.action is Action.INVOICE
        credits += e.action is Action.CREDIT
        session.add(
            BillingLedgerEntry(
                source_key=e.key,
                seq=seq,
                version=e.version,
                action=e.action.value,
                amount=e.amount.amount,
                currency=e.amount.currency,
                reference=e.reference,
                note=e.note,
                at=now,
            )
        )
    row = session.get(BillingState, line.key)
    assert row is not None, f"{line.key} has no billing state"
    money = line.amount or line.net_invoiced
    row.state, row.version = line.state.value, line.version
    row.amount = None if line.amount is None else line.amount.amount
    row.net_invoiced = None if line.net_invoiced is None else line.net_invoiced.amount
    row.currency = money.currency if money is not None else row.currency
    row.highest_version, row.entries, row.updated_at = line.highest_version, seq, now
    session.flush()
    return LineBook(line, seq, invoices, credits)


def last_reference(session: Session, key: str, action: Action) -> str | None:
    """The reference of the line's latest entry of ``action`` (e.g. its live invoice)."""
    return session.scalars(
        select(BillingLedgerEntry.reference)
        .where(BillingLedgerEntry.source_key == key, BillingLedgerEntry.action == action.value)
        .order_by(BillingLedgerEntry.seq.desc())
        .limit(1)
    ).first()


def double_billed(session: Session) -> int:
    """Source lines live on more than one invoice at once (invoices - credits > 1): must be 0."""
    t = BillingLedgerEntry
    invoices = func.sum(case((t.action == Action.INVOICE.value, 1), else_=0))
    credits = func.sum(case((t.action == Action.CREDIT.value, 1), else_=0))
    rows = session.execute(
        select(t.source_key)
        .where(t.action.in_((Action.INVOICE.value, Action.CREDIT.value)))
        .group_by(t.source_key)
        .having(invoices - credits > 1)
    )
    return len(rows.all())
