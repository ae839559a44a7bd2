"""Repositories for time-to-bill: work items, holds, billing lines, the ledger.

Written for month-end volumes: bulk statements, chunked IN lists, one commit per project.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pshub.domain.billing import WorkItem
from pshub.domain.ids import external_id
from pshub.domain.ledger import Action, LedgerEntry, LineState, SourceLine
from pshub.domain.money import Money
from pshub.flows.ports import ErpBillingLine
from pshub.store.repos import utcnow
from pshub.store.tables import (
    BillingClaim,
    BillingHold,
    BillingLedgerEntry,
    BillingLineRow,
    BillingState,
    PeriodLock,
    PollCursor,
    WorkItemRow,
)

CHUNK = 500
# Ids per status update: a billing slice's worth in one statement, well inside SQLite's and
# PostgreSQL's bound-parameter limits.
STATUS_CHUNK = 1000


def _insert(session: Session, table: Any) -> Any:
    return (
        postgresql.insert(table)
        if session.bind and session.bind.dialect.name == "postgresql"
        else sqlite.insert(table)
    )


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_COMPILED: dict[tuple[str, str, tuple[str, ...]], tuple[str, Any]] = {}


def _executemany(
    session: Session, name: str, build: Callable[[Session], Any], rows: list[dict[str, Any]]
) -> None:
    """``session.execute(build(session), rows)``, cheaper per row on SQLite.

    SQLAlchemy builds and type-processes a parameter dict per row of an executemany (about
    as much CPU as SQLite's own work at month-end volumes). On SQLite the statement is
    compiled once (cached under ``name`` and the row keys: ``build`` must give the same
    statement every time), each row runs through the same column bind processors, and the
    driver's own ``executemany`` runs one prepared statement. Other engines take the
    ordinary path.
    """
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        session.execute(build(session), rows)
        return
    keys = tuple(rows[0])
    cached = _COMPILED.get((name, conn.dialect.name, keys))
    if cached is None:
        compiled = build(session).compile(dialect=conn.dialect, column_keys=list(keys))
        processors = compiled._bind_processors
        names = tuple(compiled.positiontup or ())
        # A name that is no row key is a constant of the statement (e.g. a WHERE literal).
        params = compiled.construct_params(_check=False)
        fixed = {n: params.get(n) for n in names if n not in keys}
        procs = [(i, processors[n]) for i, n in enumerate(names) if n in processors]
        cached = _COMPILED[(name, conn.dialect.name, keys)] = (
            compiled.string,
            (itemgetter(*names), names, fixed, procs),
        )
    sql, (getter, order, fixed, procs) = cached
    # Bound values repeat across a month-end batch (the commit instant, approval instants,
    # periods, currencies): each distinct value goes through its column's processor once.
    memos: list[dict[Any, Any]] = [{} for _ in procs]
    values = []
    for row in rows:
        got = getter(row | fixed if fixed else row)
        one = list(got) if len(order) > 1 else [got]
        for (i, proc), memo in zip(procs, memos, strict=True):
            value = one[i]
            try:
                done = memo.get(value, _MISSING)
            except TypeError:  # unhashable (a JSON document): processed every time
                one[i] = proc(value)
                continue
            if done is _MISSING:
                done = memo[value] = proc(value)
            one[i] = done
        values.append(tuple(one))
    conn.exec_driver_sql(sql, values)


_MISSING = object()


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- work items --------------------------------------------------------------------------------


def upsert_work_items(session: Session, items: Sequence[WorkItem]) -> int:
    """Store new versions (status back to pending); older or equal versions are no-ops.

    Returns how many rows were inserted or moved to a newer version.
    """
    if not items:
        return 0
    now = utcnow()
    latest: dict[tuple[str, str], WorkItem] = {}
    for item in items:  # a feed page may carry several versions of one entry
        key = (item.kind.value, item.source_id)
        if key not in latest or latest[key].version < item.version:
            latest[key] = item
    rows = [
        {
            "kind": i.kind.value,
            "source_id": i.source_id,
            "version": i.version,
            "project_id": i.project_id,
            "approved": i.approved,
            "approved_at": i.approved_at,
            "status": "pending",
            "body": i.model_dump(mode="json"),
            "updated_at": now,
        }
        for i in latest.values()
    ]
    table = WorkItemRow.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "source_id"],
        set_={
            c: stmt.excluded[c]
            for c in (
                "version",
                "project_id",
                "approved",
                "approved_at",
                "status",
                "body",
                "updated_at",
            )
        },
        where=stmt.excluded.version > table.c.version,
    ).returning(table.c.source_id)
    # executemany with one cached statement; RETURNING counts only inserted or newer rows.
    changed = len(session.execute(stmt, rows).all())
    return changed


def pending_projects(session: Session) -> list[str]:
    """Projects with work to (re)consider: pending, held, or in error (a fixed mapping, a
    lifted hold or a repaired ERP setting lets it through on the next run)."""
    return list(
        session.scalars(
            select(WorkItemRow.project_id)
            .where(WorkItemRow.status.in_(("pending", "held", "error")))
            .distinct()
        )
    )


def claim_project(
    session: Session, run_id: str, workflow_id: str, seq: int, projects: Sequence[str]
) -> str | None:
    """The project a run's posting workflow bills at its ``seq``-th claim: the one it took
    at that claim before (a claim step run again after a crash), else the first of
    ``projects`` (in the run's order) no workflow of the run has taken; None when all are.

    Taking a project is an insert keyed by (run, project) that does nothing when another
    workflow got there first, so two workflows claiming at once never take the same one.
    Each claim starts after the furthest position taken: one indexed read, however many
    projects the run has.
    """
    t = _table(BillingClaim)
    mine = session.scalar(
        select(t.c.project_id).where(t.c.workflow_id == workflow_id, t.c.seq == seq)
    )
    if mine is not None:
        return str(mine)
    # Projects are taken in order, so those before the furthest one taken are all taken.
    furthest = session.scalar(select(func.max(t.c.position)).where(t.c.run_id == run_id))
    now = utcnow()
    for position in range(0 if furthest is None else furthest + 1, len(projects)):
        row = {"run_id": run_id, "project_id": projects[position], "position": position}
        stmt = _insert(session, t).values(**row, workflow_id=workflow_id, seq=seq, claimed_at=now)
        taken = stmt.on_conflict_do_nothing().returning(t.c.project_id)
        if session.execute(taken).first() is not None:
            return projects[position]
    return None


def release_claims(session: Session, run_id: str) -> int:
    """Forget a finished run's claims (returns how many): once all its posting workflows
    have returned, none of its claim steps runs again, so nothing reads them."""
    t = _table(BillingClaim)
    gone = session.execute(delete(t).where(t.c.run_id == run_id).returning(t.c.project_id))
    return len(gone.all())


def pending_counts(session: Session, project_id: str | None = None) -> dict[str, int]:
    """Work items to (re)consider per project (see :func:`pending_projects`): every
    project's, or one project's."""
    query = select(WorkItemRow.project_id, func.count()).where(
        WorkItemRow.status.in_(("pending", "held", "error"))
    )
    if project_id is not None:
        query = query.where(WorkItemRow.project_id == project_id)
    rows = session.execute(query.group_by(WorkItemRow.project_id))
    return {project: int(n) for project, n in rows}


def work_items_for(
    session: Session, project_id: str, statuses: tuple[str, ...] = ("pending", "held")
) -> list[WorkItem]:
    # The stored JSON as text, parsed and validated in one pass by pydantic-core.
    rows = session.scalars(
        select(cast(WorkItemRow.body, Text)).where(
            WorkItemRow.project_id == project_id, WorkItemRow.status.in_(statuses)
        )
    ).all()  # one fetchall, not a driver call per row
    return [WorkItem.model_validate_json(body) for body in rows]


def set_item_status(
    session: Session, project_id: str, kind_ids: dict[str, list[tuple[str, str]]]
) -> None:
    """``{status: [(kind, source_id), ...]}`` of one PSA project's items: one update by
    primary key per status and kind (project first: the project's rows are neighbours,
    decision 0013), its source ids as one list.

    One statement over a list of ids costs SQLite about half the CPU of an executemany of a
    statement per row (the same rows are found by the same key; the per-row binding and
    statement steps go).
    """
    t = _table(WorkItemRow)
    by_kind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for status, keys in kind_ids.items():
        for kind, source_id in keys:
            by_kind[(status, kind)].append(source_id)
    for (status, kind), source_ids in by_kind.items():
        for chunk in _chunks(sorted(source_ids), STATUS_CHUNK):
            session.execute(
                update(t)
                .where(t.c.project_id == project_id, t.c.kind == kind, t.c.source_id.in_(chunk))
                .values(status=status)
            )


def count_items(session: Session) -> dict[str, int]:
    rows = session.execute(select(WorkItemRow.status, func.count()).group_by(WorkItemRow.status))
    return {status: int(n) for status, n in rows}


# --- holds -------------------------------------------------------------------------------------


def set_hold(session: Session, scope: str, target: str, reason: str, actor: str) -> BillingHold:
    existing = active_hold(session, scope, target)
    if existing is not None:
        return existing
    hold = BillingHold(scope=scope, target=target, reason=reason, set_by=actor, set_at=utcnow())
    session.add(hold)
    session.flush()
    return hold


def lift_hold(session: Session, scope: str, target: str, actor: str) -> bool:
    hold = active_hold(session, scope, target)
    if hold is None:
        return False
    hold.lifted_by, hold.lifted_at = actor, utcnow()
    # Held work goes back to the queue for the next billing run.
    if scope == "project":
        session.execute(
            update(WorkItemRow)
            .where(WorkItemRow.project_id == target, WorkItemRow.status == "held")
            .values(status="pending")
        )
    else:
        kind, source_id = target.split(":", 1)
        session.execute(
            update(WorkItemRow)
            .where(
                WorkItemRow.kind == kind,
                WorkItemRow.source_id == source_id,
                WorkItemRow.status == "held",
            )
            .values(status="pending")
        )
    return True


def active_hold(session: Session, scope: str, target: str) -> BillingHold | None:
    return session.scalars(
        select(BillingHold).where(
            BillingHold.scope == scope,
            BillingHold.target == target,
            BillingHold.lifted_at.is_(None),
        )
    ).first()


def active_holds(session: Session) -> dict[tuple[str, str], str]:
    rows = session.scalars(select(BillingHold).where(BillingHold.lifted_at.is_(None)))
    return {(h.scope, h.target): h.reason for h in rows}


# --- cursors and period locks ------------------------------------------------------------------


def get_cursor(session: Session, name: str) -> str | None:
    row = session.get(PollCursor, name)
    return None if row is None else row.cursor


def set_cursor(session: Session, name: str, cursor: str | None) -> None:
    row = session.get(PollCursor, name)
    if row is None:
        session.add(PollCursor(name=name, cursor=cursor, updated_at=utcnow()))
    else:
        row.cursor, row.updated_at = cursor, utcnow()


def closed_periods(session: Session) -> set[tuple[str, str]]:
    rows = session.execute(
        select(PeriodLock.legal_entity, PeriodLock.period).where(PeriodLock.reopened_at.is_(None))
    )
    return {(entity, period) for entity, period in rows}


# --- billing state and ledger ------------------------------------------------------------------


def note_versions(session: Session, seen: Sequence[tuple[str, int]]) -> None:
    """Record versions that changed nothing billable (no ledger entry): later, older
    deliveries of them are recognised as stale."""
    if not seen:
        return
    t = _table(BillingState)
    session.execute(
        update(t)
        .where(t.c.source_key == bindparam("b_key"), t.c.highest_version < bindparam("b_version"))
        .values(highest_version=bindparam("b_version")),
        [{"b_key": key, "b_version": version} for key, version in seen],
    )


def load_states(session: Session, keys: Sequence[str]) -> dict[str, SourceLine]:
    return load_states_and_seqs(session, keys)[0]


def load_states_and_seqs(
    session: Session, keys: Sequence[str]
) -> tuple[dict[str, SourceLine], dict[str, int]]:
    """The lines' states and how many ledger entries each has (the next entry's seq - 1)."""
    states: dict[str, SourceLine] = {}
    seqs: dict[str, int] = {}
    t = BillingState.__table__.c
    cols = (
        t.source_key,
        t.state,
        t.version,
        t.amount,
        t.net_invoiced,
        t.currency,
        t.highest_version,
        t.entries,
    )
    for chunk in _chunks(list(keys)):
        for key, state, version, amount, net, cur, highest, entries in session.execute(
            select(*cols).where(t.source_key.in_(chunk))
        ).all():
            states[key] = SourceLine(
                key=key,
                state=LineState(state),
                version=version,
                amount=None if amount is None or cur is None else Money.of(amount, cur),
                net_invoiced=None if net is None or cur is None else Money.of(net, cur),
                highest_version=highest,
            )
            seqs[key] = entries
    return states, seqs


def apply_ledger(
    session: Session,
    entries: Sequence[LedgerEntry],
    lines: dict[str, SourceLine],
    seqs: dict[str, int] | None = None,
) -> None:
    """Append ledger entries and store the new states, in the caller's transaction.

    ``seqs``: entries per line as read in this transaction (:func:`load_states_and_seqs`),
    else read here. A (source, seq) unique constraint makes a concurrent second writer fail
    rather than double-book. Statements run as executemany (compiled once, cached).
    """
    if not entries:
        return
    keys = sorted({e.key for e in entries})
    t = BillingState.__table__.c
    if seqs is None:
        seqs = {}
        for chunk in _chunks(keys):
            seqs.update(
                (key, n)
                for key, n in session.execute(
                    select(t.source_key, t.entries).where(t.source_key.in_(chunk))
                )
            )
    else:
        seqs = dict(seqs)
    now = utcnow()
    rows = []
    for e in entries:
        seq = seqs.get(e.key, 0) + 1
        seqs[e.key] = seq
        rows.append(
            {
                "source_key": e.key,
                "seq": seq,
                "version": e.version,
                "action": e.action.value,
                "amount": e.amount.amount,
                "currency": e.amount.currency,
                "reference": e.reference,
                "note": e.note,
                "at": now,
            }
        )
    _executemany(session, "ledger.insert", lambda _s: insert(_table(BillingLedgerEntry)), rows)
    state_rows = []
    for key in keys:
        line = lines[key]
        money = line.amount or line.net_invoiced
        state_rows.append(
            {
                "source_key": key,
                "state": line.state.value,
                "version": line.version,
                "amount": None if line.amount is None else line.amount.amount,
                "net_invoiced": None if line.net_invoiced is None else line.net_invoiced.amount,
                "currency": money.currency if money is not None else None,
                "highest_version": line.highest_version,
                "entries": seqs[key],
                "updated_at": now,
            }
        )
    _executemany(session, "state.upsert", _state_upsert, state_rows)


def _state_upsert(session: Session) -> Any:
    table = BillingState.__table__
    stmt = _insert(session, table)
    return stmt.on_conflict_do_update(
        index_elements=["source_key"],
        set_={
            c: stmt.excluded[c]
            for c in (
                "state",
                "version",
                "amount",
                "net_invoiced",
                "currency",
                "highest_version",
                "entries",
                "updated_at",
            )
        },
    )


def ledger_for(session: Session, source_key: str) -> list[LedgerEntry]:
    rows = session.scalars(
        select(BillingLedgerEntry)
        .where(BillingLedgerEntry.source_key == source_key)
        .order_by(BillingLedgerEntry.seq)
    )
    return [
        LedgerEntry(
            r.source_key,
            r.version,
            Action(r.action),
            Money.of(r.amount, r.currency),
            r.reference,
            r.note,
        )
        for r in rows
    ]


# --- lines ------------------------------------------------------------------------------------


def record_lines(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store lines as the ERP answered them (posted or rejected), one executemany.

    A line the ERP once refused comes back with the same key (its external id) and takes the
    new answer; a posted row is never overwritten (a replay finds it posted already).
    """
    _executemany(session, "lines.upsert", _lines_upsert, rows)


def _lines_upsert(session: Session) -> Any:
    lines = _table(BillingLineRow)
    stmt = _insert(session, lines)
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            c: stmt.excluded[c]
            for c in (
                "batch_id",
                "status",
                "erp_id",
                "error",
                "posted_at",
                "posting_date",
                "approved_at",
                "amount",
                "currency",
                "period",
                "body",
            )
        },
        where=lines.c.status == "rejected",
    )


def supersede_refusals(session: Session, project_id: str) -> int:
    """Mark ``superseded`` the refused lines of a project whose entry has a newer version
    (that version is billed, or not, on its own keys); returns how many still stand
    refused."""
    t = _table(BillingLineRow).c
    refused = session.execute(
        select(t.key, t.source_key, t.version).where(
            t.project_id == project_id, t.status == "rejected"
        )
    ).all()
    if not refused:
        return 0
    current: dict[str, int] = {}
    items = _table(WorkItemRow).c
    for chunk in _chunks(sorted({source for _, source, _ in refused})):
        pairs = [source.split(":", 1) for source in chunk]
        rows = session.execute(
            select(items.kind, items.source_id, items.version).where(
                tuple_(items.kind, items.source_id).in_([tuple(p) for p in pairs])
            )
        )
        current.update((f"{kind}:{source_id}", version) for kind, source_id, version in rows)
    stale = [key for key, source, version in refused if current.get(source, 0) > version]
    for chunk in _chunks(stale):
        session.execute(
            update(_table(BillingLineRow))
            .where(t.key.in_(chunk), t.status == "rejected")
            .values(status="superseded")
        )
    return len(refused) - len(stale)


def posted_lines(
    session: Session, source_keys: Sequence[str]
) -> dict[str, list[tuple[ErpBillingLine, str]]]:
    """The live postings (ERP line, legal entity) of each source, for reversals."""
    t = BillingLineRow.__table__.c
    found: dict[str, list[tuple[ErpBillingLine, str]]] = {}
    for chunk in _chunks(list(source_keys)):
        rows = session.execute(
            select(
                t.source_key,
                t.legal_entity,
                t.key,
                t.action,
                t.period,
                t.amount,
                t.currency,
                t.posting_date,
                cast(t.body, Text),
            )
            .where(t.source_key.in_(chunk), t.status == "posted", t.action == "post")
            .order_by(t.key)
        )
        for source, entity, *stored in rows:
            found.setdefault(source, []).append((_erp_line(*stored), entity))
    return found


def _erp_line(
    key: str,
    action: str,
    period: str,
    amount: Decimal,
    currency: str,
    posting_date: date | None,
    body: str,
) -> ErpBillingLine:
    """A stored ERP line put back together from its columns and its body
    (:meth:`ErpBillingLine.stored_json`); a body stored whole, as before, carries the column
    fields too, with the same values."""
    columns = {
        "key": key,
        "external_id": external_id(key),
        "action": action,
        "period": period,
        "amount": str(amount),
        "currency": currency,
        "posting_date": posting_date.isoformat() if posting_date is not None else None,
    }
    return ErpBillingLine.from_json(columns | json.loads(body)["erp"])


def refused_lines(session: Session) -> int:
    """Lines the ERP refused that still stand refused (they come back on the next run)."""
    t = _table(BillingLineRow).c
    return int(session.scalar(select(func.count()).where(t.status == "rejected")) or 0)


def posted_amounts(session: Session, project_id: str) -> dict[str, Decimal]:
    """Billable amount live in the ERP for a project, per currency (counts toward its cap).

    Summed in Python: on SQLite the amounts are exact decimal strings, which SQL would sum as
    floats.
    """
    sources = select(BillingLineRow.source_key).where(BillingLineRow.project_id == project_id)
    rows = session.execute(
        select(BillingState.currency, BillingState.amount).where(
            BillingState.source_key.in_(sources), BillingState.state.in_(("posted", "invoiced"))
        )
    )
    totals: dict[str, Decimal] = {}
    for currency, amount in rows:
        if currency and amount is not None:
            totals[currency] = totals.get(currency, Decimal(0)) + amount
    return totals


def days_to_bill(session: Session) -> list[tuple[date, datetime, Decimal]]:
    """(posting date, approval instant, amount) of every posted billable line."""
    t = _table(BillingLineRow).c
    rows = session.execute(
        select(t.posting_date, t.approved_at, t.amount).where(
            t.status == "posted", t.action == "post"
        )
    )
    return [(d, a, amt) for d, a, amt in rows if d is not None and a is not None]
