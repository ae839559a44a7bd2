"""Time-to-bill posting: send one planned batch to the ERP, record the outcome in one commit.

The batch's lines are read once; after the ERP answers, the lines still planned are re-checked
in the writing transaction (a batch posted meanwhile has nothing left to record), and results,
ledger entries, billing states, work-item statuses and the batch status are written together.
Idempotent: a posted batch has nothing left to post; the ERP upserts by external id.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pshub.bootstrap import Container
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.ledger import LedgerEntry, SourceLine, post
from pshub.domain.money import Money
from pshub.flows.billing_plan import FLOW
from pshub.flows.ports import ErpBillingPort, ErpPostResult
from pshub.store import billing as repo
from pshub.store import repos


def post_batch(
    c: Container, port: ErpBillingPort, batch_id: str, retry: RetryPolicy
) -> dict[str, Any]:
    """Send one batch to the ERP and record the outcome; a posted batch is a no-op."""
    with c.db.session() as s:
        rows = repo.planned_lines(s, batch_id)
    if not rows:
        return {"batch_id": batch_id, "posted": 0, "rejected": 0}
    lines = [r.erp for r in rows]
    results = {r.key: r for r in call_with_retry(lambda: port.post_billing_lines(lines), retry)}
    return _record(c, batch_id, rows, results)


def _record(
    c: Container, batch_id: str, read: list[repo.PlannedLine], results: dict[str, ErpPostResult]
) -> dict[str, Any]:
    now = repos.utcnow()
    with c.db.session() as s:
        still = repo.still_planned(s, batch_id)
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
        repo.set_batch_status(s, batch_id, "posted" if not failed else "partial", now)
        if failed:
            bad = [
                (r, o["error"])
                for r, o in zip(rows, outcome_rows, strict=True)
                if o["status"] == "rejected"
            ]
            _rejected_exception(s, batch_id, bad)
        elif rows:
            _resolve_refusals(s, rows[0].project_id)
    return {"batch_id": batch_id, "posted": len(rows) - len(failed), "rejected": len(failed)}


def _resolve_refusals(session: Any, project_id: str) -> None:
    """The ERP refusals of a project are resolved once none of its lines stands refused."""
    from sqlalchemy import select

    from pshub.store.tables import BillingLineRow, BusinessException

    refused = session.scalars(
        select(BillingLineRow.key)
        .where(BillingLineRow.project_id == project_id, BillingLineRow.status == "rejected")
        .limit(1)
    )
    if refused.first() is not None:
        return
    for row in session.scalars(
        select(BusinessException).where(
            BusinessException.flow == FLOW,
            BusinessException.reason_code == "erp.rejected",
            BusinessException.correlation_id == f"psa-project:{project_id}",
            BusinessException.status.in_(("open", "retrying")),
        )
    ):
        row.status, row.resolved_at = "resolved", repos.utcnow()


def _posted_billable(rows: list[repo.PlannedLine]) -> Money:
    total = Money.zero(rows[0].erp.currency)
    for r in rows:
        if r.erp.billable:
            total = total + Money.of(r.erp.amount, r.erp.currency)
    return total


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
