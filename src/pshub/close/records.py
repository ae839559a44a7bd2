"""Repository functions of the close: results, journals, runs, period locks and reopenings."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from pshub.close.cases import Outcome
from pshub.close.journals import JournalPlan
from pshub.store.close_tables import CloseContractResult, CloseJournal, CloseReopen, CloseRun
from pshub.store.repos import audit, utcnow
from pshub.store.tables import PeriodLock

ZERO = Decimal(0)


def revision(session: Session, entity: str, period: str) -> int:
    """How many times the period was reopened (a re-close is a new run of the flow)."""
    n = session.scalar(
        select(func.count())
        .select_from(CloseReopen)
        .where(CloseReopen.legal_entity == entity, CloseReopen.period == period)
    )
    return int(n or 0)


def lock_of(session: Session, entity: str, period: str) -> PeriodLock | None:
    return session.get(PeriodLock, (entity, period))


def is_locked(session: Session, entity: str, period: str) -> bool:
    row = lock_of(session, entity, period)
    return row is not None and row.reopened_at is None


def start_run(session: Session, workflow_id: str, entity: str, period: str, rev: int) -> None:
    if session.get(CloseRun, workflow_id) is None:
        session.add(
            CloseRun(
                workflow_id=workflow_id,
                legal_entity=entity,
                period=period,
                revision=rev,
                status="running",
                contracts=0,
                started_at=utcnow(),
                summary={},
            )
        )


def finish_run(session: Session, workflow_id: str, status: str, summary: dict[str, Any]) -> None:
    row = session.get(CloseRun, workflow_id)
    if row is not None:
        row.status, row.finished_at, row.summary = status, utcnow(), summary
        row.contracts = int(summary.get("contracts", row.contracts))


def save_outcomes(
    session: Session, entity: str, period: str, workflow_id: str, outcomes: Sequence[Outcome]
) -> None:
    """Replace the period's per-contract results (a re-close rewrites them)."""
    session.execute(
        delete(CloseContractResult).where(
            CloseContractResult.legal_entity == entity, CloseContractResult.period == period
        )
    )
    rows = [_result_row(entity, period, workflow_id, o) for o in outcomes if o.result is not None]
    if rows:
        session.execute(insert(CloseContractResult.__table__), rows)  # type: ignore[arg-type]


def _result_row(entity: str, period: str, workflow_id: str, o: Outcome) -> dict[str, Any]:
    r = o.result
    assert r is not None
    info = o.facts.info
    return {
        "legal_entity": entity,
        "period": period,
        "contract_id": info.contract_id,
        "project_id": info.project_id,
        "billing_model": info.billing_model,
        "currency": info.currency,
        "revenue": r.revenue.amount,
        "cumulative_revenue": r.cumulative_revenue.amount,
        "billed": r.billed.amount,
        "cumulative_billed": r.cumulative_billed.amount,
        "cumulative_collected": r.cumulative_collected.amount,
        "receivable": r.receivable.amount,
        "contract_asset": r.contract_asset.amount,
        "contract_liability": r.contract_liability.amount,
        "transaction_price": r.transaction_price.amount,
        "detail": {
            "revenue_by_obligation": {k: str(v.amount) for k, v in r.revenue_by_obligation.items()},
            "entries": [
                {
                    "kind": e.kind.value,
                    "memo": e.memo,
                    "lines": [
                        [line.account.value, str(line.debit.amount), str(line.credit.amount)]
                        for line in e.lines
                    ],
                }
                for e in r.entries
            ],
            "findings": list(o.findings),
            "invoices": list(o.facts.invoices),
            "psa_project_id": info.psa_project_id,
            "posted_lines": o.facts.lines,
        },
        "workflow_id": workflow_id,
    }


def save_plans(session: Session, plans: Sequence[JournalPlan], workflow_id: str) -> None:
    """The journals as planned; one already posted keeps its ERP id (the upsert updates it)."""
    now = utcnow()
    for plan in plans:
        row = session.get(CloseJournal, plan.key)
        values = dict(
            canonical_id=plan.canonical_id,
            legal_entity=plan.legal_entity,
            period=plan.period,
            currency=plan.currency,
            kind=plan.kind,
            total_debit=plan.total_debit,
            total_credit=plan.total_credit,
            lines={"items": [[ln.account, str(ln.debit), str(ln.credit)] for ln in plan.lines]},
            contracts=plan.contracts,
            status="planned",
            workflow_id=workflow_id,
            updated_at=now,
        )
        if row is None:
            session.add(CloseJournal(key=plan.key, erp_id=None, posted_at=None, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)


def mark_posted(session: Session, key: str, erp_id: str) -> None:
    row = session.get(CloseJournal, key)
    if row is not None:
        row.status, row.erp_id, row.posted_at, row.updated_at = "posted", erp_id, utcnow(), utcnow()


def journals_for(session: Session, entity: str | None, period: str) -> Sequence[CloseJournal]:
    query = select(CloseJournal).where(CloseJournal.period == period)
    if entity is not None:
        query = query.where(CloseJournal.legal_entity == entity)
    return session.scalars(query.order_by(CloseJournal.key)).all()


def results_for(
    session: Session, period: str, entity: str | None = None
) -> Sequence[CloseContractResult]:
    query = select(CloseContractResult).where(CloseContractResult.period == period)
    if entity is not None:
        query = query.where(CloseContractResult.legal_entity == entity)
    return session.scalars(query.order_by(CloseContractResult.contract_id)).all()


def lock(session: Session, entity: str, period: str, actor: str) -> None:
    """Lock the period: time-to-bill moves later entries to the next open period."""
    row = lock_of(session, entity, period)
    now = utcnow()
    if row is None:
        session.add(PeriodLock(legal_entity=entity, period=period, closed_at=now, closed_by=actor))
    elif row.reopened_at is not None:
        row.closed_at, row.closed_by, row.reopened_at, row.reopened_by = now, actor, None, None


def reopen(session: Session, entity: str, period: str, actor: str, reason: str) -> bool:
    """Reopen a locked period (audited); False when it is not locked."""
    row = lock_of(session, entity, period)
    if row is None or row.reopened_at is not None:
        return False
    now = utcnow()
    row.reopened_at, row.reopened_by = now, actor
    session.add(
        CloseReopen(legal_entity=entity, period=period, reopened_by=actor, reason=reason, at=now)
    )
    audit(
        session,
        action="close.period.reopened",
        actor=actor,
        correlation_id=f"close:{entity}:{period}",
        entity_type="period",
        entity_id=f"{entity}:{period}",
        reason=reason,
    )
    return True
