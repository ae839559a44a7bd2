"""Contract versions, change orders waiting to apply, and ``ContractAmended`` events.

``contract_versions``: one row per (contract, version), append-only: the terms of the version
(JSON of :class:`ContractTerms`), the diff to the previous one and the figures revenue needs
(effective date, price change, added / removed scope, distinct / standalone price if known).
``change_orders``: the inbox of change orders, one row per source change (``change_key``), so a
redelivered change finds its row. ``status``: waiting (the ERP record is pending approval: an
operator-visible wait, not a failure) | queued (a workflow is on its way) | applied (``version``
says which) | rejected (findings) | failed. ``contract_events``: the canonical events, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pshub.domain.amendments import AmendmentDiff, ChangeOrder, ContractAmended, ContractTerms
from pshub.domain.money import Money
from pshub.store.tables import Base


class ContractVersionRow(Base):
    __tablename__ = "contract_versions"

    contract_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_date: Mapped[date | None] = mapped_column(Date)
    source_system: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[Decimal]
    price_change: Mapped[Decimal]
    added_scope: Mapped[Decimal]
    removed_scope: Mapped[Decimal]
    distinct: Mapped[bool | None] = mapped_column(Boolean)
    standalone_price: Mapped[bool | None] = mapped_column(Boolean)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    correlation_id: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime]


class ChangeOrderRow(Base):
    __tablename__ = "change_orders"

    change_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(80))
    source_system: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    change: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None until read from source
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_change_orders_status", "status"),
        Index("ix_change_orders_contract", "contract_id"),
    )


class ContractEventRow(Base):
    """Canonical contract events, in order; consumers read after the last id they saw."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(160), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    contract_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


# --- versions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractVersion:
    """One version of a contract as revenue and the console read it."""

    contract_id: str
    version: int
    effective_date: date | None
    source_system: str
    source_id: str
    price: Money
    price_change: Money
    added_scope: Money  # lines added, and increases of lines kept
    removed_scope: Money  # lines removed, and decreases of lines kept
    distinct: bool | None  # added scope is distinct goods or services (None: not known)
    standalone_price: bool | None  # added scope priced at its standalone selling price
    terms: ContractTerms
    diff: AmendmentDiff | None  # None for version 1
    created_at: datetime


def contract_versions(session: Session, contract_id: str) -> list[ContractVersion]:
    """The contract's version history, oldest first, each with its diff to the one before."""
    rows = session.scalars(
        select(ContractVersionRow)
        .where(ContractVersionRow.contract_id == contract_id)
        .order_by(ContractVersionRow.version)
    )
    return [_version(r) for r in rows]


def _version(row: ContractVersionRow) -> ContractVersion:
    cur = row.currency
    return ContractVersion(
        contract_id=row.contract_id,
        version=row.version,
        effective_date=row.effective_date,
        source_system=row.source_system,
        source_id=row.source_id,
        price=Money.of(row.price, cur),
        price_change=Money.of(row.price_change, cur),
        added_scope=Money.of(row.added_scope, cur),
        removed_scope=Money.of(row.removed_scope, cur),
        distinct=row.distinct,
        standalone_price=row.standalone_price,
        terms=ContractTerms.model_validate(row.terms),
        diff=None if row.diff is None else AmendmentDiff.model_validate(row.diff),
        created_at=row.created_at,
    )


def latest_terms(session: Session, contract_id: str) -> ContractTerms | None:
    row = session.scalars(
        select(ContractVersionRow)
        .where(ContractVersionRow.contract_id == contract_id)
        .order_by(ContractVersionRow.version.desc())
        .limit(1)
    ).first()
    return None if row is None else ContractTerms.model_validate(row.terms)


def add_first_version(
    session: Session, terms: ContractTerms, effective: date | None, now: datetime
) -> None:
    """Version 1 as provisioned (idempotent)."""
    c = terms.contract
    if session.get(ContractVersionRow, (c.id, c.version)) is not None:
        return
    zero = Decimal(0)
    session.add(
        ContractVersionRow(
            contract_id=c.id,
            version=c.version,
            effective_date=effective,
            source_system="provisioning",
            source_id=c.opportunity_id,
            currency=c.value.currency,
            price=c.value.amount,
            price_change=zero,
            added_scope=zero,
            removed_scope=zero,
            terms=terms.model_dump(mode="json"),
            diff=None,
            created_at=now,
        )
    )
    session.flush()


def add_version(
    session: Session, terms: ContractTerms, event: ContractAmended, now: datetime
) -> bool:
    """Record version N+1 and its event once; False when that version already exists."""
    c = terms.contract
    if session.get(ContractVersionRow, (c.id, c.version)) is not None:
        return False
    session.add(
        ContractVersionRow(
            contract_id=c.id,
            version=c.version,
            effective_date=event.effective_date,
            source_system=event.source_system,
            source_id=event.source_id,
            currency=c.value.currency,
            price=c.value.amount,
            price_change=event.price_change.amount,
            added_scope=event.added_scope.amount,
            removed_scope=event.removed_scope.amount,
            distinct=event.distinct,
            standalone_price=event.standalone_price,
            terms=terms.model_dump(mode="json"),
            diff=event.diff.model_dump(mode="json"),
            correlation_id=event.correlation_id,
            created_at=now,
        )
    )
    session.add(
        ContractEventRow(
            event_id=event.event_id,
            type=event.type,
            contract_id=event.contract_id,
            version=event.version,
            occurred_at=event.occurred_at,
            body=event.model_dump(mode="json"),
        )
    )
    session.flush()
    return True


def events_after(session: Session, after_id: int = 0, limit: int = 100) -> list[ContractAmended]:
    """``ContractAmended`` events recorded after ``after_id`` (a consumer's cursor)."""
    rows = session.scalars(
        select(ContractEventRow)
        .where(ContractEventRow.id > after_id)
        .order_by(ContractEventRow.id)
        .limit(limit)
    )
    return [ContractAmended.model_validate(r.body) for r in rows]


# --- change orders (their inbox) -----------------------------------------------------------------


def record_change(
    session: Session,
    *,
    change_key: str,
    contract_id: str,
    source_system: str,
    source_id: str,
    change: ChangeOrder | None,
    now: datetime,
) -> tuple[ChangeOrderRow, bool]:
    """Keep a change order once; a redelivery counts itself and returns (row, False)."""
    row = session.get(ChangeOrderRow, change_key)
    if row is not None:
        row.deliveries += 1
        row.updated_at = now
        return row, False
    row = ChangeOrderRow(
        change_key=change_key,
        contract_id=contract_id,
        source_system=source_system,
        source_id=source_id,
        status="queued",
        attempt=1,
        deliveries=1,
        change=None if change is None else change.model_dump(mode="json"),
        received_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row, True


def change_row(session: Session, change_key: str) -> ChangeOrderRow | None:
    return session.get(ChangeOrderRow, change_key)


def changes_in(
    session: Session, statuses: tuple[str, ...], contract_id: str | None = None
) -> list[ChangeOrderRow]:
    query = select(ChangeOrderRow).where(ChangeOrderRow.status.in_(statuses))
    if contract_id is not None:
        query = query.where(ChangeOrderRow.contract_id == contract_id)
    return list(session.scalars(query.order_by(ChangeOrderRow.received_at)))


def set_status(
    session: Session,
    change_key: str,
    status: str,
    now: datetime,
    *,
    reason: str | None = None,
    version: int | None = None,
    change: ChangeOrder | None = None,
) -> None:
    row = session.get(ChangeOrderRow, change_key)
    if row is None:
        return
    row.status, row.reason, row.updated_at = status, reason, now
    if version is not None:
        row.version = version
    if change is not None:
        row.change = change.model_dump(mode="json")


def count_applied(session: Session) -> int:
    """Change orders that became a contract version (the demo's ``change_orders_applied``)."""
    rows = session.scalars(select(ChangeOrderRow).where(ChangeOrderRow.status == "applied"))
    return len(list(rows))
