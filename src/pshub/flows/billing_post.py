"""Time-to-bill posting: a project's planned lines go to the ERP, the outcome is recorded once.

:func:`bill_project` plans the project (:mod:`.billing_plan`, in memory), sends its lines in
requests of up to ``batch_size``, and records lines, ledger entries, billing states, work-item
statuses and exceptions in one commit. Nothing is stored between planning and the ERP's
answer: a crash in between re-plans the same lines under the same keys, and the ERP upserts
by external id, so a replay updates what it sent rather than posting twice. The ledger
decides again on the states read in the writing transaction, so a version recorded meanwhile
is not booked twice.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any

from pshub.bootstrap import Container
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.ledger import LedgerEntry, SourceLine, post
from pshub.domain.money import Money
from pshub.flows import billing_plan
from pshub.flows.billing_plan import FLOW, ProjectPlan
from pshub.flows.ports import ErpBillingPort, ErpPostResult
from pshub.store import billing as repo
from pshub.store import repos


def bill_project(
    c: Container,
    port: ErpBillingPort,
    project_id: str,
    as_of: datetime,
    run_id: str,
    retry: RetryPolicy,
) -> dict[str, int]:
    """Plan, post and record one project's pending work; a project with none is a no-op.

    The requests go out ``requests_in_parallel`` at a time and are recorded
    ``batches_per_workflow`` at a time (one commit each; the project's statuses and
    exceptions with the first), so a crash in a big project re-sends at most one slice.
    """
    policy = c.policy()  # read once: each read checks the policy files on disk
    plan = billing_plan.plan_project(c, project_id, as_of, policy)
    if plan.ctx is None:
        return _totals(plan, posted=0, rejected=0, requests=0)
    rules = policy.billing.rules
    requests = billing_plan.requests(plan, rules.batch_size, f"{run_id}@{as_of.isoformat()}")
    slices = _slices(list(requests.values()), rules.batches_per_workflow)
    posted = rejected = 0
    with ThreadPoolExecutor(max_workers=rules.requests_in_parallel) as pool:
        for n, rows in enumerate(slices):
            results = _send(pool, port, rows, retry)
            done, refused = _record(c, plan, rows, results, first=n == 0, last=n == len(slices) - 1)
            posted, rejected = posted + done, rejected + refused
    return _totals(plan, posted=posted, rejected=rejected, requests=len(requests))


def _slices(requests: list[list[dict[str, Any]]], size: int) -> list[list[list[dict[str, Any]]]]:
    """Requests in slices of ``size``; a plan with no lines still has one (empty) slice, which
    records its statuses and exceptions."""
    return [requests[i : i + size] for i in range(0, len(requests), size)] or [[]]


def _send(
    pool: ThreadPoolExecutor,
    port: ErpBillingPort,
    requests: list[list[dict[str, Any]]],
    retry: RetryPolicy,
) -> dict[str, ErpPostResult]:
    """The ERP's answer to each line of these requests, sent several at a time."""

    def one(rows: list[dict[str, Any]]) -> list[ErpPostResult]:
        lines = [r["erp"] for r in rows]
        return call_with_retry(lambda: port.post_billing_lines(lines), retry)

    results: dict[str, ErpPostResult] = {}
    for answers in pool.map(one, requests):
        results.update((r.key, r) for r in answers)
    return results


def _totals(plan: ProjectPlan, **counts: int) -> dict[str, int]:
    return {"lines": plan.lines, "held": plan.held, "errors": plan.errors, **counts}


def _record(
    c: Container,
    plan: ProjectPlan,
    requests: list[list[dict[str, Any]]],
    results: dict[str, ErpPostResult],
    *,
    first: bool,
    last: bool,
) -> tuple[int, int]:
    """The lines of these requests with their ledger entries and statuses in one commit (the
    first slice also takes the project's other statuses and its exceptions); returns how many
    lines were posted and how many the ERP refused."""
    assert plan.ctx is not None
    now = repos.utcnow()
    status = {k: list(v) for k, v in plan.status.items()} if first else {}
    by_source: dict[str, list[dict[str, Any]]] = {}
    for rows in requests:
        for row in rows:
            by_source.setdefault(row["source_key"], []).append(row)
    posted = rejected = 0
    with c.db.writing() as s:
        states, seqs = repo.load_states_and_seqs(s, list(by_source))
        line_rows: list[dict[str, Any]] = []
        refused: dict[str, list[tuple[dict[str, Any], str | None]]] = defaultdict(list)
        entries: list[LedgerEntry] = []
        new_states: dict[str, SourceLine] = {}
        for key, rows in by_source.items():
            bad = 0
            for row in rows:
                res = results.get(row["key"])
                good = res is not None and res.ok
                error = None if good else (res.error if res else "no result from the ERP")
                line_rows.append(_line_row(row, res, good, error, now))
                if not good:
                    bad += 1
                    refused[row["batch_id"]].append((row, error))
            kind, source_id = key.split(":", 1)
            if bad:
                status.setdefault("error", []).append((kind, source_id))
                rejected += bad
                continue
            amount = plan.billable[key]  # the value the posted lines bill (planned)
            first_post = next((r for r in rows if r["action"] == "post"), None)
            outcome = post(
                states.get(key) or SourceLine(key),
                rows[0]["version"],
                amount,
                reference=results[first_post["key"]].erp_id if first_post else None,
            )
            entries.extend(outcome.entries)
            new_states[key] = outcome.line
            status.setdefault("done", []).append((kind, source_id))
            posted += len(rows)
        repo.record_lines(s, line_rows)
        repo.apply_ledger(s, entries, new_states, seqs)
        repo.set_item_status(s, plan.project_id, status)
        for batch_id, bad_rows in refused.items():
            _rejected_exception(s, batch_id, bad_rows)
        if first:
            repo.note_versions(s, plan.unchanged)
            billing_plan.raise_exceptions(s, plan.ctx, plan.findings, plan.items)
        if last:
            _resolve_refusals(s, plan.project_id)
    return posted, rejected


def _line_row(
    row: dict[str, Any], res: ErpPostResult | None, ok: bool, error: str | None, now: datetime
) -> dict[str, Any]:
    """The planned line as stored: its columns, the ERP's answer, and as the body the rest of
    the ERP line (what the columns do not hold)."""
    return {
        "key": row["key"],
        "batch_id": row["batch_id"],
        "source_key": row["source_key"],
        "version": row["version"],
        "action": row["action"],
        "project_id": row["project_id"],
        "legal_entity": row["legal_entity"],
        "period": row["period"],
        "amount": row["amount"],
        "currency": row["currency"],
        "approved_at": row["approved_at"],
        "posting_date": row["posting_date"],
        "status": "posted" if ok else "rejected",
        "erp_id": res.erp_id if res is not None else None,
        "error": error,
        "posted_at": now if ok else None,
        "body": {"erp": row["erp"].stored_json()},
    }


def _resolve_refusals(session: Any, project_id: str) -> None:
    """The ERP refusals of a project are resolved once none of its lines stands refused.

    A refused line of a version the PSA has since replaced (an edit, an un-approval) will
    never be sent again: it is marked ``superseded`` (kept, with the ERP's error, for audit)
    rather than holding the exception open for ever.
    """
    from sqlalchemy import select

    from pshub.store.tables import BusinessException

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
    if repo.supersede_refusals(session, project_id):
        return  # some line still stands refused
    for row in open_refusals:
        row.status, row.resolved_at = "resolved", repos.utcnow()


def _rejected_exception(
    session: Any, batch_id: str, bad: list[tuple[dict[str, Any], str | None]]
) -> None:
    first = bad[0][0]
    currency = first["currency"]
    total = sum((r["amount"] for r, _ in bad if r["currency"] == currency), Decimal(0))
    repos.raise_exception(
        session,
        flow=FLOW,
        kind="business",
        correlation_id=f"psa-project:{first['project_id']}",
        source_system="netsuite",
        source_record=f"batch:{batch_id}",
        reason_code="erp.rejected",
        reason=f"{Money.of(total, currency)} of approved work refused by the ERP: {bad[0][1]}",
        amount=Money.of(total, currency),
        legal_entity=first["legal_entity"],
        findings=[
            {"code": "erp.rejected", "record": r["source_key"], "message": error, "line": r["key"]}
            for r, error in bad[:500]
        ],
        trigger={"flow": FLOW, "input": {"project_id": first["project_id"]}},
    )
