"""ORM rows. They live here only; the domain never sees them (mapping happens in repositories)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pshub.store.types import ExactDecimal, UtcDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), Decimal: ExactDecimal(), dict[str, Any]: JSON}


class InboxEvent(Base):
    """Every event the hub was offered. Accepted ones are unique per (source, event id);
    rejected ones are kept for audit beside them without blocking a later good delivery."""

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source_system: Mapped[str] = mapped_column(String(40))
    source_event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # accepted | rejected | dispatched
    received_at: Mapped[datetime]
    correlation_id: Mapped[str | None] = mapped_column(String(120))
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the body exactly as received

    __table_args__ = (
        Index(
            "uq_inbox_source_event",
            "source_system",
            "source_event_id",
            unique=True,
            sqlite_where=(status != "rejected"),
            postgresql_where=(status != "rejected"),
        ),
        Index("ix_inbox_status", "status"),
    )


class CrossReference(Base):
    """Canonical id <-> each system's id, unique both ways."""

    __tablename__ = "cross_references"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    entity_type: Mapped[str] = mapped_column(String(40))
    canonical_id: Mapped[str] = mapped_column(String(80))
    system: Mapped[str] = mapped_column(String(40))
    system_type: Mapped[str] = mapped_column(String(60))
    system_id: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("entity_type", "canonical_id", "system", name="uq_xref_canonical"),
        UniqueConstraint("system", "system_type", "system_id", name="uq_xref_system"),
    )


class CanonicalRecord(Base):
    """The hub's own copy of a canonical record (JSON of the domain model), versioned."""

    __tablename__ = "canonical_records"

    entity_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    canonical_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    correlation_id: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only trail (UPDATE and DELETE are refused by database triggers)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime]
    correlation_id: Mapped[str | None] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(120))
    system: Mapped[str | None] = mapped_column(String(40))
    system_id: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]]

    __table_args__ = (Index("ix_audit_correlation", "correlation_id", "id"),)


class BusinessException(Base):
    """Work the rules will not do yet: why, what it holds back, and in money."""

    __tablename__ = "business_exceptions"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    flow: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))  # business | dead_letter
    correlation_id: Mapped[str] = mapped_column(String(120))
    source_system: Mapped[str] = mapped_column(String(40))
    source_record: Mapped[str] = mapped_column(String(120))
    reason_code: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None]
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # for ranking by money
    currency: Mapped[str | None] = mapped_column(String(3))
    legal_entity: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # open | retrying | resolved
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[dict[str, Any]]
    trigger: Mapped[dict[str, Any]]  # what to start again on retry
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_exc_status_amount", "status", "amount_minor"),
        Index("ix_exc_correlation", "correlation_id"),
        Index("ix_exc_reason", "reason_code"),
    )


class FlowRun(Base):
    """One run of a flow for one business key; attempts after a retry are new runs."""

    __tablename__ = "flow_runs"

    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    flow: Mapped[str] = mapped_column(String(60))
    correlation_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))  # running | completed | exception | failed
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_flow_runs_correlation", "correlation_id"),
        Index("ix_flow_runs_flow_status", "flow", "status"),
    )
