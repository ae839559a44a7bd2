"""Poll the PSA's change feed into ``work_items`` (the inbox for PSA delivery records).

Kantata publishes no push webhooks, so the hub pages its change feed by the feed's strictly
increasing event id. The cursor is written in the same transaction as the work items that page
delivered: a crash re-reads at most one page, and the upsert ignores versions it already holds.
A deleted entry becomes an unapproved newer version, which the ledger reverses if posted.
Milestone completions go, in the same transaction as the cursor, to milestone billing's inbox
(``milestone_intake``), which then starts the billing workflows; budget and milestone-amount
changes go, in the same transaction, to the change-order inbox (``change_intake``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pshub.bootstrap import Container
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.billing import WorkItem, work_item_from_expense, work_item_from_time
from pshub.domain.delivery import ApprovalDecision, Change, ExpenseEntry, TimeEntry
from pshub.flows import change_intake, milestone_intake
from pshub.store import billing as repo

FEED = "kantata:changes"


@dataclass
class PollResult:
    pages: int = 0
    changes: int = 0
    work_items: int = 0
    milestones: int = 0
    change_orders: int = 0
    cursor: str | None = None


def poll(
    c: Container, *, limit: int = 200, max_pages: int = 10_000, retry: RetryPolicy | None = None
) -> PollResult:
    """Read every change after the stored cursor; returns what was taken in."""
    psa: Any = c.psa
    retry = retry or RetryPolicy(max_elapsed=c.settings.step_retry_seconds)
    result = PollResult()
    with c.db.session() as s:
        cursor = repo.get_cursor(s, FEED)
    result.cursor = cursor
    for _ in range(max_pages):
        changes, after = call_with_retry(lambda cur=cursor: psa.changes(cur, limit), retry)  # type: ignore[misc]
        if not changes:
            break
        items = _work_items(c, changes, retry)
        with c.db.session() as s:
            result.work_items += repo.upsert_work_items(s, items)
            result.milestones += milestone_intake.take(s, changes, c.psa.system)
            result.change_orders += change_intake.take(s, changes, c.psa.system)
            repo.set_cursor(s, FEED, after)
        cursor = after
        result.pages += 1
        result.changes += len(changes)
        result.cursor = cursor
        if len(changes) < limit:
            break
    milestone_intake.dispatch(c)
    change_intake.dispatch(c)
    return result


def _work_items(c: Container, changes: list[Change], retry: RetryPolicy) -> list[WorkItem]:
    items: list[WorkItem] = []
    refetch: set[str] = set()
    for change in changes:
        record = change.record
        if isinstance(record, TimeEntry):
            items.append(_deleted(work_item_from_time(record), change))
        elif isinstance(record, ExpenseEntry):
            items.append(_deleted(work_item_from_expense(record), change))
        elif isinstance(record, ApprovalDecision):
            refetch.update(record.entry_source_ids)
    if refetch:  # an approval change: read the entries as they now stand
        psa: Any = c.psa
        entries = call_with_retry(lambda: psa.time_entries(sorted(refetch)), retry)
        items.extend(work_item_from_time(e) for e in entries)
    return items


def _deleted(item: WorkItem, change: Change) -> WorkItem:
    if change.action != "deleted":
        return item
    newer = max(item.version + 1, _version(change))
    return item.model_copy(update={"approved": False, "approved_at": None, "version": newer})


def _version(change: Change) -> int:
    try:
        return int(change.cursor)
    except ValueError:
        return 0
