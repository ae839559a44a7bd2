"""Repositories: small functions over a Session. The flows and the API call these, never SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pshub.domain.money import Money, quantum
from pshub.store.tables import (
    AuditEntry,
    BusinessException,
    CanonicalRecord,
    CrossReference,
    FlowRun,
    InboxEvent,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- inbox -----------------------------------------------------------------------------------


def accept_event(
    session: Session,
    *,
    source_system: str,
    source_event_id: str,
    event_type: str,
    payload: str,
    correlation_id: str,
    workflow_id: str,
) -> tuple[InboxEvent, bool]:
    """Insert an accepted event; a redelivery returns the first row and False (a no-op)."""
    existing = find_event(session, source_system, source_event_id)
    if existing is not None:
        existing.deliveries += 1
        return existing, False
    row = InboxEvent(
        source_system=source_system,
        source_event_id=source_event_id,
        event_type=event_type,
        status="accepted",
        received_at=utcnow(),
        correlation_id=correlation_id,
        workflow_id=workflow_id,
        payload=payload,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent delivery of the same event won the race
        existing = find_event(session, source_system, source_event_id)
        assert existing is not None
        existing.deliveries += 1
        return existing, False
    return row, True


def reject_event(
    session: Session,
    *,
    source_system: str,
    source_event_id: str | None,
    event_type: str,
    payload: str,
    error: str,
) -> InboxEvent:
    """Keep a refused event for audit; it never blocks a later valid delivery."""
    row = InboxEvent(
        source_system=source_system,
        source_event_id=source_event_id or "",
        event_type=event_type,
        status="rejected",
        received_at=utcnow(),
        payload=payload,
        error=error,
    )
    session.add(row)
    session.flush()
    return row


def find_event(session: Session, source_system: str, source_event_id: str) -> InboxEvent | None:
    return session.scalars(
        select(InboxEvent).where(
            InboxEvent.source_system == source_system,
            InboxEvent.source_event_id == source_event_id,
            InboxEvent.status != "rejected",
        )
    ).first()


def undispatched_events(session: Session) -> Sequence[InboxEvent]:
    """Accepted events whose workflow may not have started (a crash right after the 2xx)."""
    return session.scalars(
        select(InboxEvent).where(InboxEvent.status == "accepted").order_by(InboxEvent.id)
    ).all()


def mark_dispatched(session: Session, inbox_id: int) -> None:
    row = session.get(InboxEvent, inbox_id)
    if row is not None and row.status == "accepted":
        row.status = "dispatched"


# --- cross-reference -------------------------------------------------------------------------


def link(
    session: Session,
    *,
    entity_type: str,
    canonical_id: str,
    system: str,
    system_type: str,
    system_id: str,
) -> None:
    """Record canonical id <-> system id (idempotent; a different id for the same pair updates)."""
    row = session.scalars(
        select(CrossReference).where(
            CrossReference.entity_type == entity_type,
            CrossReference.canonical_id == canonical_id,
            CrossReference.system == system,
        )
    ).first()
    now = utcnow()
    if row is None:
        # Insert-if-absent: two flows may link the same pair at once (two deals of one
        # account provisioning in parallel); the second must not fail on the unique index.
        values = {
            "entity_type": entity_type,
            "canonical_id": canonical_id,
            "system": system,
            "system_type": system_type,
            "system_id": system_id,
            "created_at": now,
            "updated_at": now,
        }
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(CrossReference).values(**values).on_conflict_do_nothing())
        row = session.scalars(
            select(CrossReference).where(
                CrossReference.entity_type == entity_type,
                CrossReference.canonical_id == canonical_id,
                CrossReference.system == system,
            )
        ).first()
        if row is None:
            raise ValueError(
                f"{system} {system_type} {system_id} is already linked to another "
                f"{entity_type}; not linked to {canonical_id}"
            )
    if row.system_id != system_id or row.system_type != system_type:
        row.system_id, row.system_type, row.updated_at = system_id, system_type, now
    session.flush()


def link_all(
    session: Session, *, entity_type: str, system: str, system_type: str, ids: dict[str, str]
) -> None:
    """:func:`link` for each canonical id -> system id of ``ids`` (e.g. a project's stories)."""
    for canonical_id, system_id in ids.items():
        link(
            session,
            entity_type=entity_type,
            canonical_id=canonical_id,
            system=system,
            system_type=system_type,
            system_id=system_id,
        )


def system_ids(session: Session, entity_type: str, canonical_id: str) -> dict[str, str]:
    rows = session.scalars(
        select(CrossReference).where(
            CrossReference.entity_type == entity_type, CrossReference.canonical_id == canonical_id
        )
    )
    return {r.system: r.system_id for r in rows}


def canonical_for(session: Session, system: str, system_type: str, system_id: str) -> str | None:
    return session.scalars(
        select(CrossReference.canonical_id).where(
            CrossReference.system == system,
            CrossReference.system_type == system_type,
            CrossReference.system_id == system_id,
        )
    ).first()


def count_links(session: Session, entity_type: str, system: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CrossReference)
            .where(CrossReference.entity_type == entity_type, CrossReference.system == system)
        )
        or 0
    )


# --- canonical records -----------------------------------------------------------------------


def save_record(
    session: Session,
    entity_type: str,
    canonical_id: str,
    body: dict[str, Any],
    correlation_id: str | None = None,
) -> int:
    """Upsert the hub's copy of a record; the version goes up only when the body changes."""
    row = session.get(CanonicalRecord, (entity_type, canonical_id))
    if row is None:
        session.add(
            CanonicalRecord(
                entity_type=entity_type,
                canonical_id=canonical_id,
                version=1,
                body=body,
                correlation_id=correlation_id,
                updated_at=utcnow(),
            )
        )
        session.flush()
        return 1
    if row.body != body:
        row.body, row.version, row.updated_at = body, row.version + 1, utcnow()
    return row.version


def get_record(session: Session, entity_type: str, canonical_id: str) -> dict[str, Any] | None:
    row = session.get(CanonicalRecord, (entity_type, canonical_id))
    return None if row is None else row.body


# --- audit -----------------------------------------------------------------------------------


def audit(
    session: Session,
    *,
    action: str,
    actor: str = "pshub",
    correlation_id: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    system: str | None = None,
    system_id: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            at=utcnow(),
            correlation_id=correlation_id,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            system=system,
            system_id=system_id,
            detail=_jsonable(detail),
        )
    )


def record_hop(
    session: Session,
    *,
    action: str,
    correlation_id: str,
    entity_type: str,
    canonical_id: str,
    system: str,
    system_type: str,
    system_id: str,
    **detail: Any,
) -> None:
    """One hop of a flow: the record's id in ``system`` linked to its canonical id, and the
    hop in the audit trail (the lineage view reads both)."""
    link(
        session,
        entity_type=entity_type,
        canonical_id=canonical_id,
        system=system,
        system_type=system_type,
        system_id=system_id,
    )
    audit(
        session,
        action=action,
        correlation_id=correlation_id,
        entity_type=entity_type,
        entity_id=canonical_id,
        system=system,
        system_id=system_id,
        **detail,
    )


def audit_trail(session: Session, correlation_id: str) -> Sequence[AuditEntry]:
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.correlation_id == correlation_id)
        .order_by(AuditEntry.id)
    ).all()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return value.model_dump()
    return value


# --- business exceptions ---------------------------------------------------------------------


def raise_exception(
    session: Session,
    *,
    flow: str,
    kind: str,
    correlation_id: str,
    source_system: str,
    source_record: str,
    reason_code: str,
    reason: str,
    amount: Money | None,
    legal_entity: str | None,
    findings: list[dict[str, Any]],
    trigger: dict[str, Any],
) -> BusinessException:
    """Open an exception, or refresh the open one for the same record and flow."""
    row = session.scalars(
        select(BusinessException).where(
            BusinessException.flow == flow,
            BusinessException.source_record == source_record,
            BusinessException.status.in_(("open", "retrying")),
        )
    ).first()
    now = utcnow()
    minor = None if amount is None else int(amount.rounded().amount / quantum(amount.currency))
    values = dict(
        kind=kind,
        correlation_id=correlation_id,
        reason_code=reason_code,
        reason=reason,
        amount=None if amount is None else amount.rounded().amount,
        amount_minor=minor,
        currency=None if amount is None else amount.currency,
        legal_entity=legal_entity,
        status="open",
        findings={"items": findings},
        trigger=trigger,
        updated_at=now,
    )
    if row is None:
        row = BusinessException(
            flow=flow,
            source_system=source_system,
            source_record=source_record,
            created_at=now,
            attempts=0,
            **values,
        )
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def begin_run(
    session: Session,
    *,
    workflow_id: str,
    flow: str,
    correlation_id: str,
    attempt: int,
    inbox_id: int | None = None,
    **detail: Any,
) -> None:
    """Record a flow run as started and audit it (``flow.started``); the twin of
    :func:`end_run_with_exception`."""
    start_run(
        session,
        workflow_id=workflow_id,
        flow=flow,
        correlation_id=correlation_id,
        inbox_id=inbox_id,
        attempt=attempt,
    )
    audit(
        session,
        action="flow.started",
        correlation_id=correlation_id,
        workflow_id=workflow_id,
        attempt=attempt,
        **detail,
    )


def end_run_with_exception(
    session: Session,
    row: BusinessException,
    *,
    workflow_id: str,
    correlation_id: str,
    **detail: Any,
) -> str:
    """Finish a flow run that stopped on an exception and audit it: a business exception ends
    the run as ``exception`` (``flow.exception``), a dead letter as ``failed``
    (``flow.dead_letter``). Returns the run's status."""
    business = row.kind == "business"
    status = "exception" if business else "failed"
    finish_run(session, workflow_id, status, {"exception_id": row.id})
    audit(
        session,
        action="flow.exception" if business else "flow.dead_letter",
        correlation_id=correlation_id,
        exception_id=row.id,
        reason_code=row.reason_code,
        reason=row.reason,
        **detail,
    )
    return status


def resolve_open_exceptions(session: Session, flow: str, source_record: str) -> int:
    rows = session.scalars(
        select(BusinessException).where(
            BusinessException.flow == flow,
            BusinessException.source_record == source_record,
            BusinessException.status.in_(("open", "retrying")),
        )
    ).all()
    for row in rows:
        row.status, row.resolved_at, row.updated_at = "resolved", utcnow(), utcnow()
    return len(rows)


def list_exceptions(
    session: Session,
    *,
    status: str | None = "open",
    flow: str | None = None,
    reason_code: str | None = None,
    legal_entity: str | None = None,
    min_amount_minor: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[BusinessException]:
    """Exceptions ranked by the money they hold back (largest first)."""
    query = select(BusinessException)
    if status:
        query = query.where(BusinessException.status == status)
    if flow:
        query = query.where(BusinessException.flow == flow)
    if reason_code:
        query = query.where(BusinessException.reason_code == reason_code)
    if legal_entity:
        query = query.where(BusinessException.legal_entity == legal_entity)
    if min_amount_minor is not None:
        query = query.where(BusinessException.amount_minor >= min_amount_minor)
    query = (
        query.order_by(BusinessException.amount_minor.desc().nulls_last(), BusinessException.id)
        .limit(limit)
        .offset(offset)
    )
    return session.scalars(query).all()


def get_exception(session: Session, exception_id: int) -> BusinessException | None:
    return session.get(BusinessException, exception_id)


# --- flow runs -------------------------------------------------------------------------------


def start_run(
    session: Session,
    *,
    workflow_id: str,
    flow: str,
    correlation_id: str,
    inbox_id: int | None,
    attempt: int,
) -> None:
    if session.get(FlowRun, workflow_id) is None:
        session.add(
            FlowRun(
                workflow_id=workflow_id,
                flow=flow,
                correlation_id=correlation_id,
                status="running",
                inbox_id=inbox_id,
                attempt=attempt,
                started_at=utcnow(),
            )
        )
        session.flush()


def finish_run(
    session: Session, workflow_id: str, status: str, result: dict[str, Any] | None
) -> None:
    row = session.get(FlowRun, workflow_id)
    if row is not None:
        row.status, row.finished_at, row.result = status, utcnow(), _jsonable(result)


def runs_for(session: Session, correlation_id: str) -> Sequence[FlowRun]:
    return session.scalars(
        select(FlowRun).where(FlowRun.correlation_id == correlation_id).order_by(FlowRun.started_at)
    ).all()


def run_counts(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(FlowRun.flow, FlowRun.status, func.count()).group_by(FlowRun.flow, FlowRun.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for flow, status, n in rows:
        counts.setdefault(flow, {})[status] = int(n)
    return counts
