"""ORM rows. They live here only; the domain never sees them (mapping happens in repositories)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
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


# --- time-to-bill ------------------------------------------------------------------------------


class WorkItemRow(Base):
    """The latest known version of each time entry / expense from the PSA.

    Stored by project (decision 0013): billing reads and marks a project's items together,
    and the PSA's entry ids interleave projects. The entry's identity is (kind, source_id).
    """

    __tablename__ = "work_items"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # PSA project id
    approved: Mapped[bool]
    approved_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # pending | held | planned | done | error
    body: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("project_id", "kind", "source_id", name="work_items_pkey"),
        UniqueConstraint("kind", "source_id", name="uq_work_items_source"),
        Index("ix_work_items_status_project", "status", "project_id"),
        {"sqlite_with_rowid": False},
    )


class BillingBatch(Base):
    """Planned batches of the earlier, two-phase posting (kept for history, decision 0010)."""

    __tablename__ = "billing_batches"

    batch_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(80))
    legal_entity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # planned | posted | partial
    line_count: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_billing_batches_status", "status"),)


class BillingLineRow(Base):
    """A line as the ERP answered it: posted, or rejected until re-sent (one per line key)."""

    __tablename__ = "billing_lines"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(80))  # the ERP request that carried it
    source_key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # post | reverse
    project_id: Mapped[str] = mapped_column(String(80))
    legal_entity: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # posted | rejected | superseded
    erp_id: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    posting_date: Mapped[date | None]  # the business date of the ERP transaction
    body: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ix_billing_lines_source", "source_key"),
        # A project's planned / refused lines (planning, refusal checks) without a scan.
        Index("ix_billing_lines_project_status", "project_id", "status"),
    )


class BillingState(Base):
    """Current state of each source line, folded from the ledger (kept in the same commit)."""

    __tablename__ = "billing_state"

    source_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None]
    net_invoiced: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    highest_version: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class BillingLedgerEntry(Base):
    """Append-only billing ledger; (source, seq) is unique so no entry is written twice."""

    __tablename__ = "billing_ledger"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source_key: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("source_key", "seq", name="uq_billing_ledger_seq"),)


class BillingHold(Base):
    __tablename__ = "billing_holds"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    scope: Mapped[str] = mapped_column(String(10))  # project | entry
    target: Mapped[str] = mapped_column(String(100))  # PSA project id, or "<kind>:<source id>"
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime]
    lifted_by: Mapped[str | None] = mapped_column(String(80))
    lifted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_billing_holds_target", "scope", "target"),)


class BillingClaim(Base):
    """Which posting workflow of a billing run took which project (decision 0014).

    A run's posting workflows take its projects one at a time, largest first, each the next
    one nobody has taken: all of them finish within about one project of each other. The
    ``seq``-th claim of a workflow is recorded, so a claim step run again after a crash takes
    the same project.
    """

    __tablename__ = "billing_claims"

    run_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # in the run's order of projects
    workflow_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("workflow_id", "seq", name="uq_billing_claims_step"),
        Index("ix_billing_claims_position", "run_id", "position"),
    )


class PollCursor(Base):
    __tablename__ = "poll_cursors"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class PeriodLock(Base):
    """A closed period per legal entity; later events go to the next open period."""

    __tablename__ = "period_locks"

    legal_entity: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_at: Mapped[datetime]
    closed_by: Mapped[str] = mapped_column(String(80))
    reopened_at: Mapped[datetime | None]
    reopened_by: Mapped[str | None] = mapped_column(String(80))
