"""Time-to-bill posting: send one planned batch to the ERP, record the outcome in one commit.

The batch's lines are read once; after the ERP answers, the lines still planned are re-checked
in the writing transaction (a batch posted meanwhile has nothing left to record), and results,
ledger entries, billing states, work-item statuses and the batch status are written together.
Idempotent: a posted batch has nothing left to post; the ERP upserts by external id.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from pshub.bootstrap import Container
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.ledger import LedgerEntry, SourceLine, post
from pshub.domain.money import Money
from pshub.flows.billing_plan import FLOW
from pshub.flows.ports import ErpBillingLine, ErpBillingPort, ErpPostResult
from pshub.store import billing as repo
from pshub.store import repos


def post_batch(
    c: Container, port: ErpBillingPort, batch_id: str, retry: RetryPolicy
) -> dict[str, Any]:
    """Send one batch to the ERP and record the outcome; a posted batch is a no-op."""
    result = post_batches(c, port, [batch_id], retry)
    return {"batch_id": batch_id, "posted": result["posted"], "rejected": result["rejected"]}


def post_batches(
    c: Container, port: ErpBillingPort, batch_ids: list[str], retry: RetryPolicy
) -> dict[str, Any]:
    """Send several batches to the ERP, one request each, and record every outcome in one
    commit (a commit and a step per batch cost more than the hub's work on its lines);
    posted batches are no-ops."""
    with c.db.session() as s:
        rows = repo.planned_lines_of(s, batch_ids)
    if not rows:
        return {"posted": 0, "rejected": 0}
    by_batch: dict[str, list[ErpBillingLine]] = defaultdict(list)
    for r in rows:
        by_batch[r.batch_id].append(r.erp)
    results: dict[str, ErpPostResult] = {}
    for lines in by_batch.values():
        answers = call_with_retry(lambda: port.post_billing_lines(lines), retry)  # noqa: B023
        results.update((r.key, r) for r in answers)
    return _record(c, rows, results)


def _record(
    c: Container, read: list[repo.PlannedLine], results: dict[str, ErpPostResult]
) -> dict[str, Any]:
    now = repos.utcnow()
    with c.db.session() as s:
        still = repo.still_planned_of(s, sorted({r.batch_id for r in read}))
        rows = [r for r in read if r.key in still]
        outcome_rows: list[dict[str, Any]] = []
        by_source: dict[str, list[repo.PlannedLine]] = defaultdict(list)
        posted_keys: set[str] = set()
        for row in rows:
            res = results.get(row.key)
            ok = res is not None and res.ok
            if ok:
                posted_keys.add(row.key)
            outcome_rows.append(
                {
                    "key": row.key,
                    "status": "posted" if ok else "rejected",
                    "erp_id": res.erp_id if res else None,
                    "posted_at": now if ok else None,
                    "error": None if ok else (res.error if res else "no result from the ERP"),
                }
            )
            by_source[row.source_key].append(row)
        repo.record_line_results(s, outcome_rows)
        states, seqs = repo.load_states_and_seqs(s, list(by_source))
        entries: list[LedgerEntry] = []
        new_states: dict[str, SourceLine] = {}
        done: list[tuple[str, str]] = []
        failed: list[tuple[str, str]] = []
        for key, source_rows in by_source.items():
            kind, source_id = key.split(":", 1)
            if any(r.key not in posted_keys for r in source_rows):
                failed.append((kind, source_id))
                continue
            posts = [r for r in source_rows if r.erp.action == "post"]
            amount = _posted_billable(posts) if posts else None
            reference = results[posts[0].key].erp_id if posts else None
            outcome = post(
                states.get(key) or SourceLine(key),
                source_rows[0].version,
                amount,
                reference=reference,
            )
            entries.extend(outcome.entries)
            new_states[key] = outcome.line
            done.append((kind, source_id))
        repo.apply_ledger(s, entries, new_states, seqs)
        repo.set_item_status(s, {"done": done, "error": failed})
        _close_batches(s, read, rows, outcome_rows, now)
    return {"posted": len(rows) - len(failed), "rejected": len(failed)}


def _close_batches(
    session: Any,
    read: list[repo.PlannedLine],
    rows: list[repo.PlannedLine],
    outcomes: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Each batch posted or partial, with its own refusal exception; a project whose lines
    all went through has its earlier ERP refusals resolved."""
    refused: dict[str, list[tuple[repo.PlannedLine, str | None]]] = defaultdict(list)
    batches = {r.batch_id: r.project_id for r in read}
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome["status"] == "rejected":
            refused[row.batch_id].append((row, outcome["error"]))
    repo.set_batches_status(
        session, {b: "partial" if b in refused else "posted" for b in batches}, now
    )
    for batch_id, bad in refused.items():
        _rejected_exception(session, batch_id, bad)
    written = {r.batch_id for r in rows}
    clean = {p for b, p in batches.items() if b in written and b not in refused} - {
        r.project_id for bad in refused.values() for r, _ in bad
    }
    for project_id in sorted(clean):
        _resolve_refusals(session, project_id)


def _resolve_refusals(session: Any, project_id: str) -> None:
    """The ERP refusals of a project are resolved once none of its lines stands refused."""
    from sqlalchemy import select

    from pshub.store.tables import BillingLineRow, BusinessException

    # The open refusals first: there are none on almost every batch, and then the lines
    # need not be looked at.
    open_refusals = session.scalars(
        select(BusinessException).where(
            BusinessException.flow == FLOW,
            BusinessException.reason_code == "erp.rejected",
            BusinessException.correlation_id == f"psa-project:{project_id}",
            BusinessException.status.in_(("open", "retrying")),
        )
    ).all()
    if not open_refusals:
        return
    refused = session.scalars(
        select(BillingLineRow.key)
        .where(BillingLineRow.project_id == project_id, BillingLineRow.status == "rejected")
        .limit(1)
    )
    if refused.first() is not None:
        return
    for row in open_refusals:
        row.status, row.resolved_at = "resolved", repos.utcnow()


def _posted_billable(rows: list[repo.PlannedLine]) -> Money:
    # Summed as Decimal (a source's lines share the batch's currency), one Money at the end.
    currency = rows[0].erp.currency
    if any(r.erp.currency != currency for r in rows):
        raise ValueError(f"lines of {rows[0].source_key} in several currencies")
    return Money.of(sum((r.erp.amount for r in rows if r.erp.billable), Decimal(0)), currency)


def _rejected_exception(
    session: Any, batch_id: str, bad: list[tuple[repo.PlannedLine, str | None]]
) -> None:
    first = bad[0][0]
    currency = first.erp.currency
    total = sum((r.erp.amount for r, _ in bad if r.erp.currency == currency), Decimal(0))
    repos.raise_exception(
        session,
        flow=FLOW,
        kind="business",
        correlation_id=f"psa-project:{first.project_id}",
        source_system="netsuite",
        source_record=f"batch:{batch_id}",
        reason_code="erp.rejected",
        reason=f"{Money.of(total, currency)} of approved work refused by the ERP: {bad[0][1]}",
        amount=Money.of(total, currency),
        legal_entity=first.legal_entity,
        findings=[
            {"code": "erp.rejected", "record": r.source_key, "message": error, "line": r.key}
            for r, error in bad[:500]
        ],
        trigger={"flow": FLOW, "input": {"project_id": first.project_id}},
    )
