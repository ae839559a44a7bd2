"""Milestone completions in: PSA feed -> ``milestone_billings`` (their inbox) -> workflows.

:func:`take` runs inside the transaction in which the PSA feed poller stores its cursor, so
a completion is kept exactly when the cursor moves past it; a redelivered completion (the same
event read again, or the milestone completed a second time) finds its row and only counts the
delivery. :func:`dispatch` starts the queued milestones (enqueue is idempotent by workflow id,
which also closes a crash between the commit and the enqueue) after :func:`recheck` has given
blocked milestones whose reason has gone (hold lifted, earlier milestone invoiced, customer
acceptance recorded) a new attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS

from pshub.bootstrap import Container
from pshub.domain.delivery import Change, TaskStatus
from pshub.flows.milestone_billing import FLOW, BillMilestoneInput, correlation_id_for, start
from pshub.flows.milestone_context import context_for
from pshub.store import invoicing as store
from pshub.store import repos


def take(s: Any, changes: Sequence[Change], system: str = "kantata") -> int:
    """Keep the milestone completions among ``changes``; returns how many were new."""
    new = 0
    for change in changes:
        status = change.record
        if not _completion(change, status):
            continue
        assert isinstance(status, TaskStatus)
        milestone_id = store.canonical_of(s, "milestone", system, status.source_id)
        project_id = store.canonical_of(s, "project", system, status.project_source_id)
        if milestone_id is None or project_id is None:  # a milestone the hub did not provision
            repos.audit(
                s,
                action="psa.milestone.unmapped",
                entity_type="milestone",
                system=system,
                system_id=status.source_id,
                project=status.project_source_id,
            )
            continue
        done = store.Completion(
            milestone_id=milestone_id,
            project_id=project_id,
            psa_project_id=status.project_source_id,
            psa_story_id=status.source_id,
            completed_at=change.occurred_at,
            event=change.cursor,
        )
        first = store.record_completion(s, done)
        repos.audit(
            s,
            action="psa.milestone.completed" if first else "psa.milestone.redelivered",
            correlation_id=correlation_id_for(milestone_id),
            entity_type="milestone",
            entity_id=milestone_id,
            system=system,
            system_id=status.source_id,
            event=change.cursor,
        )
        new += int(first)
    return new


def _completion(change: Change, status: object) -> bool:
    return (
        change.kind == "task"
        and change.action != "deleted"
        and isinstance(status, TaskStatus)
        and status.milestone
        and status.completed
    )


def recheck(c: Container, project_id: str | None = None) -> list[BillMilestoneInput]:
    """Blocked milestones whose findings are gone, queued again under a new attempt."""
    released: list[BillMilestoneInput] = []
    with c.db.session() as s:
        for row in store.milestones_in(s, ("blocked",)):
            if project_id is not None and row.project_id != project_id:
                continue
            ctx = context_for(c, s, row.milestone_id)
            if ctx is None or ctx.findings():
                continue
            attempt = store.next_attempt(s, row.milestone_id)
            correlation = correlation_id_for(row.milestone_id)
            repos.audit(
                s,
                action="milestone.released",
                correlation_id=correlation,
                entity_type="milestone",
                entity_id=row.milestone_id,
                attempt=attempt,
            )
            released.append(_input(c, row.milestone_id, attempt))
    return released


def dispatch(c: Container) -> list[str]:
    """Release what may go now, then start every queued milestone (idempotent)."""
    recheck(c)
    with c.db.session() as s:
        queued = [(r.milestone_id, r.attempt) for r in store.milestones_in(s, ("queued",))]
    if not queued or DBOS.retrieve_queue(FLOW) is None:
        return []  # not launched (e.g. a tool reading the feed): the next dispatch starts them
    return [start(_input(c, milestone_id, attempt)) for milestone_id, attempt in queued]


def accept(c: Container, milestone_id: str, accepted_by: str) -> list[str]:
    """Record the customer's acceptance of a milestone and bill it if nothing else blocks."""
    with c.db.session() as s:
        store.record_acceptance(s, milestone_id, accepted_by, datetime.now(UTC))
        repos.audit(
            s,
            action="milestone.accepted",
            actor=accepted_by,
            correlation_id=correlation_id_for(milestone_id),
            entity_type="milestone",
            entity_id=milestone_id,
        )
    return dispatch(c)


def restart(c: Container, milestone_id: str, actor: str = "operator") -> str:
    """Bill a failed or blocked milestone again as a new attempt (operator's retry)."""
    with c.db.session() as s:
        attempt = store.next_attempt(s, milestone_id)
        repos.audit(
            s,
            action="milestone.restarted",
            actor=actor,
            correlation_id=correlation_id_for(milestone_id),
            entity_type="milestone",
            entity_id=milestone_id,
            attempt=attempt,
        )
    return start(_input(c, milestone_id, attempt))


def _input(c: Container, milestone_id: str, attempt: int) -> BillMilestoneInput:
    return BillMilestoneInput(
        correlation_id=correlation_id_for(milestone_id),
        milestone_id=milestone_id,
        attempt=attempt,
        patience_seconds=c.settings.outage_patience_seconds,
    )
