"""Change orders in: CRM approvals and PSA plan changes -> ``change_orders`` (their inbox) -> runs.

Sources:
- Salesforce: a won Opportunity whose ``Change_Order_Status__c`` becomes "Approved" arrives as a
  signed change event (the webhook of ``ingest``); it is written to the inbox and, in the same
  transaction, to ``change_orders`` keyed ``salesforce:<opportunity>:<change-order number>``.
  The flow reads the opportunity's amount, lines and dates as approved.
- Kantata: a workspace budget or a milestone story amount changed in the change feed
  (:func:`take`, called in the feed poller's cursor transaction), keyed ``kantata:<event id>``.
  A value equal to the hub's (the echo of the hub's own push) is not a change.

:func:`dispatch` starts, per contract, the oldest queued change as version N+1, one at a time,
so versions follow the order changes were received. A change whose ERP order is pending
approval stays ``waiting`` inside its run (durably) and the contract's later changes queue
behind it. Call :func:`dispatch` after intake and from the serve loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS
from sqlalchemy.orm import Session

from pshub.bootstrap import Container
from pshub.domain.delivery import Change, ProjectBudget, TaskStatus
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.flows import change_orders as flow
from pshub.store import contract_tables as store
from pshub.store import repos

SOURCE = "salesforce"
STATUS_FIELD, NUMBER_FIELD, APPROVED = (
    "Change_Order_Status__c",
    "Change_Order_Number__c",
    "Approved",
)
OPEN = ("queued", "running", "waiting")
CLOSED = ("applied", "rejected", "failed", "unchanged")
POLL_KEY = "change_orders.approval_poll_seconds"


def is_change_order(changed_fields: Sequence[str], values: Mapping[str, Any]) -> bool:
    """A Salesforce change event that approves a change order on a won deal."""
    return STATUS_FIELD in changed_fields and values.get(STATUS_FIELD) == APPROVED


def accept_salesforce(
    c: Container,
    body: bytes,
    opportunity_ids: Sequence[str],
    event_id: str,
    values: Mapping[str, Any],
    committed_at: datetime,
) -> tuple[int, bool, str, list[str]]:
    """Inbox row and change-order rows in one transaction, then dispatch.
    Returns (inbox id, duplicate, correlation id, workflow ids started)."""
    number = str(values.get(NUMBER_FIELD) or event_id)
    contracts = [canonical_id("contract", SOURCE, opp) for opp in opportunity_ids]
    correlation = flow.correlation_id_for(contracts[0])
    with c.db.session() as s:
        row, new = repos.accept_event(
            s,
            source_system=SOURCE,
            source_event_id=event_id,
            event_type="OpportunityChangeEvent",
            payload=body.decode("utf-8"),
            correlation_id=correlation,
            workflow_id=f"change:{contracts[0]}",
        )
        inbox_id = row.id
        repos.audit(
            s,
            action="inbox.accepted" if new else "inbox.duplicate",
            correlation_id=correlation,
            system=SOURCE,
            system_id=opportunity_ids[0],
            inbox_id=inbox_id,
            event_id=event_id,
        )
        for opp, contract in zip(opportunity_ids, contracts, strict=True):
            request = {
                "opportunity": opp,
                "change_id": number,
                "effective_date": committed_at.date().isoformat(),
            }  # a redelivery finds the change's row and only counts itself
            _record(s, f"{SOURCE}:{opp}:{number}", contract, SOURCE, number, request)
        if new:
            repos.mark_dispatched(s, inbox_id)
    return inbox_id, not new, correlation, dispatch(c) if new else []


def take(s: Session, changes: Sequence[Change], system: str = "kantata") -> int:
    """Keep the PSA budget and milestone-amount changes among ``changes``; how many are new."""
    new = 0
    for change in changes:
        if change.action != "updated":
            continue
        record = change.record
        if isinstance(record, ProjectBudget) and record.budget is not None:
            new += _take_budget(s, change, record, system)
        elif isinstance(record, TaskStatus) and record.milestone and record.amount is not None:
            new += _take_milestone(s, change, record, system)
    return new


def _take_budget(s: Session, change: Change, record: ProjectBudget, system: str) -> int:
    project = _project(s, system, record.project_source_id)
    if project is None or record.budget is None or _money(project["budget"]) == record.budget:
        return 0
    request = {
        "change_id": change.cursor,
        "effective_date": change.occurred_at.date().isoformat(),
        "budget": record.budget.model_dump(mode="json"),
    }
    return _record(
        s, f"{system}:{change.cursor}", project["contract_id"], system, change.cursor, request
    )


def _take_milestone(s: Session, change: Change, record: TaskStatus, system: str) -> int:
    project = _project(s, system, record.project_source_id)
    milestone = repos.canonical_for(s, system, "story", record.source_id)
    if project is None or milestone is None or record.amount is None:
        return 0
    known = {m["id"]: _money(m["amount"]) for m in project.get("milestones", [])}
    if known.get(milestone) in (None, record.amount):
        return 0
    request = {
        "change_id": change.cursor,
        "effective_date": change.occurred_at.date().isoformat(),
        "milestone_amounts": {milestone: record.amount.model_dump(mode="json")},
    }
    return _record(
        s, f"{system}:{change.cursor}", project["contract_id"], system, change.cursor, request
    )


def _project(s: Session, system: str, workspace_id: str) -> dict[str, Any] | None:
    project_id = repos.canonical_for(s, system, "workspace", workspace_id)
    return None if project_id is None else repos.get_record(s, "project", project_id)


def _money(data: Any) -> Money:
    return Money.of(data["amount"], data["currency"])


def _record(
    s: Session, key: str, contract_id: str, source: str, source_id: str, request: dict[str, Any]
) -> int:
    now = datetime.now(UTC)
    row, first = store.record_change(
        s,
        change_key=key,
        contract_id=contract_id,
        source_system=source,
        source_id=source_id,
        change=None,
        now=now,
    )
    if first:
        row.change = request
    repos.audit(
        s,
        action="change.received" if first else "change.redelivered",
        correlation_id=flow.correlation_id_for(contract_id),
        entity_type="contract",
        entity_id=contract_id,
        system=source,
        system_id=source_id,
        change=key,
    )
    return int(first)


def submit(
    c: Container, key: str, contract_id: str, source: str, source_id: str, request: dict[str, Any]
) -> bool:
    """Record a change order from any source (tests, operators); True when it is new."""
    with c.db.session() as s:
        first = _record(s, key, contract_id, source, source_id, request)
    dispatch(c)
    return bool(first)


def dispatch(c: Container) -> list[str]:
    """Start the oldest queued change of every contract with nothing in flight (idempotent)."""
    if DBOS.retrieve_queue(flow.FLOW) is None:
        return []  # not launched: the next dispatch starts them
    inputs = []
    with c.db.session() as s:
        rows = store.changes_in(s, OPEN)
        busy = {r.contract_id for r in rows if r.status in ("running", "waiting")}
        started: set[str] = set()
        for row in rows:
            if row.status != "queued":  # started before: enqueue again is a no-op (or a
                inputs.append(_restart(c, row))  # start a crash interrupted)
                continue
            if row.contract_id in busy | started:
                continue
            inputs.append(_input(c, s, row))
            row.status = "running"
            started.add(row.contract_id)
    return [flow.start(inp) for inp in inputs]


def _restart(c: Container, row: store.ChangeOrderRow) -> flow.ApplyChangeInput:
    return flow.ApplyChangeInput(
        change_key=row.change_key,
        contract_id=row.contract_id,
        version=row.version or 2,
        attempt=row.attempt,
        patience_seconds=c.settings.outage_patience_seconds,
        approval_poll_seconds=float(c.extras.get(POLL_KEY, 30.0)),
    )


def _input(c: Container, s: Session, row: store.ChangeOrderRow) -> flow.ApplyChangeInput:
    """Version N+1 of the contract; a new attempt number when that version was tried before
    (a rejected change, or this one restarted), so its workflow id is new."""
    versions = store.contract_versions(s, row.contract_id)
    target = (versions[-1].version if versions else 1) + 1
    tried = [
        r.attempt
        for r in store.changes_in(s, CLOSED + OPEN, row.contract_id)
        if r.version == target and (r is row or r.status != "queued")
    ]
    row.version, row.attempt = target, max(tried, default=0) + 1
    return _restart(c, row)


def restart(c: Container, change_key: str, actor: str = "operator") -> str:
    """Try a rejected or failed change order again (operator's retry, after a fix); the id of
    its new run (it may first queue behind the contract's change in flight)."""
    with c.db.session() as s:
        row = store.change_row(s, change_key)
        if row is None:
            raise LookupError(f"change order {change_key} does not exist")
        if row.status not in ("rejected", "failed"):
            raise ValueError(f"change order {change_key} is {row.status}, not rejected or failed")
        row.status = "queued"
        repos.audit(
            s,
            action="change.restarted",
            actor=actor,
            correlation_id=flow.correlation_id_for(row.contract_id),
            entity_type="contract",
            entity_id=row.contract_id,
            change=change_key,
        )
    dispatch(c)
    with c.db.session() as s:
        row = store.change_row(s, change_key)
        assert row is not None
        return _restart(c, row).workflow_id


def applied_count(c: Container) -> int:
    """``change_orders_applied`` for the demo summary."""
    with c.db.session() as s:
        return store.count_applied(s)
