"""Time-to-bill services: plan one project's billing, post one batch to the ERP.

Planning loads the project's pending/held/errored work, asks the domain for priced lines and
the ledger for what to do (post, reverse and re-post, nothing), and stores batches of ERP lines
plus the business exceptions (holds, bad entries) with the money they hold back. Posting sends
one batch, then records results, ledger entries and state in one transaction. Both are
idempotent: a batch id is a hash of its line keys; a posted batch has nothing left to post.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pshub.bootstrap import Container
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.billing import BillingLine, LinePart, ProjectBilling, WorkItem, price_work
from pshub.domain.findings import Finding
from pshub.domain.ids import external_id
from pshub.domain.ledger import Action, LedgerEntry, SourceLine, post
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.flows.ports import ErpBillingLine, ErpBillingPort
from pshub.policy import Policy
from pshub.store import billing as repo
from pshub.store import repos
from pshub.store.tables import BillingBatch, BillingLineRow

FLOW = "time_to_bill"


@dataclass
class ProjectContext:
    billing: ProjectBilling
    customer_id: str
    job_id: str
    subsidiary_id: str


@dataclass
class PlanResult:
    project_id: str
    batch_ids: list[str] = field(default_factory=list)
    lines: int = 0
    held: int = 0
    errors: int = 0


def project_context(
    c: Container,
    session: Any,
    psa_project_id: str,
    policy: Policy,
    holds: dict[tuple[str, str], str],
) -> ProjectContext | None:
    """Everything billing needs about a PSA project, from the hub's records; None if unknown."""
    canonical = repos.canonical_for(session, "kantata", "workspace", psa_project_id)
    if canonical is None:
        return None
    project = repos.get_record(session, "project", canonical)
    contract = project and repos.get_record(session, "contract", project["contract_id"])
    if not project or not contract:
        return None
    erp = repos.system_ids(session, "project", canonical)
    customer = repos.system_ids(session, "account", contract["account_id"])
    entity = policy.rules.legal_entities.get(contract["legal_entity"])
    if "netsuite" not in erp or "netsuite" not in customer or entity is None:
        return None
    model = BillingModel(contract["billing_model"])
    value = Money.of(contract["value"]["amount"], contract["value"]["currency"])
    cap = (
        value
        if model is BillingModel.TIME_AND_MATERIALS
        and policy.billing.rules.tm_not_to_exceed == "contract_value"
        else None
    )
    billed = repo.posted_amounts(session, psa_project_id).get(value.currency, Decimal(0))
    hold = holds.get(("project", psa_project_id))
    card = policy.rules.rate_cards.get(contract.get("rate_card") or "")
    return ProjectContext(
        billing=ProjectBilling(
            project_id=psa_project_id,
            name=project["name"],
            contract_id=contract["id"],
            legal_entity=contract["legal_entity"],
            currency=value.currency,
            billing_model=model,
            rate_card=card,
            tax_code=contract["tax_code"],
            on_hold=hold is not None,
            hold_reason=hold,
            cap=cap,
            billed_to_date=Money.of(billed, value.currency),
        ),
        customer_id=customer["netsuite"],
        job_id=erp["netsuite"],
        subsidiary_id=entity.erp_subsidiary_id,
    )


def plan_project(c: Container, psa_project_id: str, as_of: datetime) -> PlanResult:
    """Price and plan one project's work into ERP batches (idempotent)."""
    policy = c.policy()
    result = PlanResult(psa_project_id)
    with c.db.session() as s:
        busy = repo.planned_sources(s, psa_project_id)
        items = [
            i
            for i in repo.work_items_for(s, psa_project_id, ("pending", "held", "error"))
            if i.key not in busy
        ]
        if not items:
            return result
        holds = repo.active_holds(s)
        ctx = project_context(c, s, psa_project_id, policy, holds)
        if ctx is None:
            _unknown_project(s, psa_project_id, items, result)
            return result
        closed = {p for e, p in repo.closed_periods(s) if e == ctx.billing.legal_entity}
        states = repo.load_states(s, [i.key for i in items])
        posted = _posted_lines(s, [k for k, st in states.items() if st.version is not None])
    items = [_with_role(_with_entry_hold(i, holds), policy) for i in items]
    calendar = policy.billing.calendar(as_of.date(), closed)
    approved = [i for i in items if i.approved]
    priced = price_work(
        approved, ctx.billing, calendar, policy.billing.cost_rates(), policy.billing.fx
    )
    by_source: dict[str, list[BillingLine]] = defaultdict(list)
    for line in priced.lines:
        by_source[f"{line.kind.value}:{line.source_id}"].append(line)
    blocked = {f.record for f in priced.findings if f.blocking}
    held = {i.key for i in priced.held}
    rows_by_source: dict[str, list[dict[str, Any]]] = {}
    status: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in items:
        ident = (item.kind.value, item.source_id)
        if item.key in held:
            status["held"].append(ident)
            continue
        if item.key in blocked:
            status["error"].append(ident)
            continue
        lines = by_source.get(item.key, []) if item.approved else []
        amount = _billable(lines) if item.approved else None
        outcome = post(states.get(item.key, SourceLine(item.key)), item.version, amount)
        if not outcome.entries:
            status["done"].append(ident)
            continue
        rows = []
        for entry in outcome.entries:
            if entry.action is Action.REVERSE:
                rows += [_reversal(old, item, as_of) for old in posted.get(item.key, [])]
            else:
                rows += [_row(line, ctx, item, as_of, policy) for line in lines]
        rows_by_source[item.key] = rows
        status["planned"].append(ident)
    with c.db.session() as s:
        result.batch_ids = _store_batches(
            s, psa_project_id, ctx, rows_by_source, policy.billing.rules.batch_size
        )
        repo.set_item_status(s, dict(status))
        _raise_exceptions(s, ctx, priced.findings, items)
    result.lines = sum(len(r) for r in rows_by_source.values())
    result.held, result.errors = len(status["held"]), len(status["error"])
    return result


def _with_entry_hold(item: WorkItem, holds: dict[tuple[str, str], str]) -> WorkItem:
    reason = holds.get(("entry", item.key))
    return (
        item if reason is None else item.model_copy(update={"on_hold": True, "hold_reason": reason})
    )


def _with_role(item: WorkItem, policy: Policy) -> WorkItem:
    """The billing role: the consultant's role of record (consultants.yaml, from HCM) when the
    firm lists the consultant, else the role the PSA gave (a PSA headline is not a rate role)."""
    consultant = policy.billing.consultants.get(item.consultant_id or "")
    if consultant is None or item.role == consultant.role:
        return item
    return item.model_copy(update={"role": consultant.role})


def _billable(lines: list[BillingLine]) -> Money | None:
    if not lines:
        return None
    total = Money.zero(lines[0].amount.currency)
    for line in lines:
        if line.part is LinePart.BILLABLE:
            total = total + line.amount
    return total


def _row(
    line: BillingLine, ctx: ProjectContext, item: WorkItem, as_of: datetime, policy: Policy
) -> dict[str, Any]:
    consultant = policy.billing.consultants.get(line.consultant_id or "")
    memo = f"{line.kind.value} {line.source_id} v{line.version} {line.part.value}" + (
        f" — {line.note}" if line.note else ""
    )
    erp = ErpBillingLine(
        key=line.key,
        external_id=external_id(line.key),
        action="post",
        kind=line.kind.value,
        customer_id=ctx.customer_id,
        job_id=ctx.job_id,
        subsidiary_id=ctx.subsidiary_id,
        employee=consultant.erp_employee_id if consultant else None,
        work_date=line.work_date,
        posting_date=as_of.date(),
        period=line.period,
        hours=line.hours,
        rate=line.rate.amount if line.rate else None,
        amount=line.amount.amount,
        cost=line.cost.amount if line.cost else None,
        currency=line.amount.currency,
        billable=line.part is LinePart.BILLABLE,
        tax_code=line.tax_code,
        memo=memo[:300],
    )
    return _line_row(erp, item, line.legal_entity, "post")


def _reversal(old: BillingLineRow, item: WorkItem, as_of: datetime) -> dict[str, Any]:
    prior = ErpBillingLine.model_validate(old.body["erp"])
    key = f"{old.key}:reverse:v{item.version}"
    erp = prior.model_copy(
        update={
            "key": key,
            "external_id": external_id(key),
            "action": "reverse",
            "reverses": prior.key,
            "posting_date": as_of.date(),
            "memo": f"reversal of {prior.key} (superseded by version {item.version})",
        }
    )
    return _line_row(erp, item, old.legal_entity, "reverse")


def _line_row(erp: ErpBillingLine, item: WorkItem, entity: str, action: str) -> dict[str, Any]:
    return {
        "key": erp.key,
        "source_key": item.key,
        "version": item.version,
        "action": action,
        "project_id": item.project_id,
        "legal_entity": entity,
        "period": erp.period,
        "amount": erp.amount,
        "currency": erp.currency,
        "status": "planned",
        "approved_at": item.approved_at,
        "posting_date": erp.posting_date,
        "body": {"erp": erp.model_dump(mode="json")},
    }


def _posted_lines(session: Any, keys: list[str]) -> dict[str, list[BillingLineRow]]:
    found: dict[str, list[BillingLineRow]] = defaultdict(list)
    for i in range(0, len(keys), 500):
        rows = session.scalars(
            select(BillingLineRow).where(
                BillingLineRow.source_key.in_(keys[i : i + 500]),
                BillingLineRow.status == "posted",
                BillingLineRow.action == "post",
            )
        )
        for row in rows:
            found[row.source_key].append(row)
    return found


def _store_batches(
    session: Any,
    project_id: str,
    ctx: ProjectContext,
    rows_by_source: dict[str, list[dict[str, Any]]],
    size: int,
) -> list[str]:
    """Chunk lines into batches of at most ``size``, never splitting one source's lines."""
    batches: list[list[dict[str, Any]]] = [[]]
    for rows in rows_by_source.values():
        if batches[-1] and len(batches[-1]) + len(rows) > size:
            batches.append([])
        batches[-1].extend(rows)
    ids = []
    for rows in batches:
        if not rows:
            continue
        digest = hashlib.sha1(
            "|".join(sorted(r["key"] for r in rows)).encode(), usedforsecurity=False
        ).hexdigest()[:20]
        batch_id = f"ttb-{digest}"
        for r in rows:
            r["batch_id"] = batch_id
        repo.add_batch(session, batch_id, project_id, ctx.billing.legal_entity, rows)
        ids.append(batch_id)
    return ids


def _unknown_project(
    session: Any, project_id: str, items: list[WorkItem], result: PlanResult
) -> None:
    repo.set_item_status(session, {"error": [(i.kind.value, i.source_id) for i in items]})
    result.errors = len(items)
    repos.raise_exception(
        session,
        flow=FLOW,
        kind="business",
        correlation_id=f"psa-project:{project_id}",
        source_system="kantata",
        source_record=f"project:{project_id}:project.unknown",
        reason_code="project.unknown",
        reason=f"{len(items)} entries on PSA project {project_id}, which the hub has not "
        "provisioned (no contract, ERP job or legal entity)",
        amount=None,
        legal_entity=None,
        findings=[
            {
                "code": "project.unknown",
                "field": "time_entry.project",
                "record": i.key,
                "message": f"unknown project {project_id}",
            }
            for i in items[:200]
        ],
        trigger={"flow": FLOW, "input": {"project_id": project_id}},
    )


def _raise_exceptions(
    session: Any, ctx: ProjectContext, findings: list[Finding], items: list[WorkItem]
) -> None:
    """One exception per (project, reason) with its records and money; stale ones resolve."""
    project = ctx.billing.project_id
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.blocking or f.code == "billing.hold":
            groups[f.code].append(f)
    for code, found in groups.items():
        amounts = [
            f.amount
            for f in found
            if f.amount is not None and f.amount.currency == ctx.billing.currency
        ]
        total = sum((a.amount for a in amounts), Decimal(0))
        money = Money.of(total, ctx.billing.currency) if amounts else None
        what = "approved work held" if code == "billing.hold" else "approved work blocked"
        reason = (
            f"{money} of {what}: {found[0].message}"
            if money is not None
            else f"{len(found)} entries blocked: {found[0].message}"
        )
        repos.raise_exception(
            session,
            flow=FLOW,
            kind="business",
            correlation_id=f"psa-project:{project}",
            source_system="kantata",
            source_record=f"project:{project}:{code}",
            reason_code=code,
            reason=reason,
            amount=money,
            legal_entity=ctx.billing.legal_entity,
            findings=[f.model_dump(mode="json") for f in found[:500]],
            trigger={"flow": FLOW, "input": {"project_id": project}},
        )
    _resolve_stale(session, project, set(groups))


def _resolve_stale(session: Any, project: str, current: set[str]) -> None:
    from pshub.store.tables import BusinessException

    stale = session.scalars(
        select(BusinessException).where(
            BusinessException.flow == FLOW,
            BusinessException.correlation_id == f"psa-project:{project}",
            BusinessException.status.in_(("open", "retrying")),
        )
    ).all()
    for row in stale:
        if row.reason_code not in current and row.reason_code != "erp.rejected":
            row.status, row.resolved_at = "resolved", repos.utcnow()


# --- posting -----------------------------------------------------------------------------------


def post_batch(
    c: Container, port: ErpBillingPort, batch_id: str, retry: RetryPolicy
) -> dict[str, Any]:
    """Send one batch to the ERP and record the outcome; a posted batch is a no-op."""
    with c.db.session() as s:
        rows = [r for r in repo.batch_lines(s, batch_id) if r.status == "planned"]
        lines = [ErpBillingLine.model_validate(r.body["erp"]) for r in rows]
    if not lines:
        return {"batch_id": batch_id, "posted": 0, "rejected": 0}
    results = {r.key: r for r in call_with_retry(lambda: port.post_billing_lines(lines), retry)}
    return _record(c, batch_id, results)


def _record(c: Container, batch_id: str, results: dict[str, Any]) -> dict[str, Any]:
    now = repos.utcnow()
    with c.db.session() as s:
        rows = [r for r in repo.batch_lines(s, batch_id) if r.status == "planned"]
        outcome_rows: list[dict[str, Any]] = []
        by_source: dict[str, list[repo.LineRow]] = defaultdict(list)
        posted_keys: set[str] = set()
        for row in rows:
            res = results.get(row.key)
            ok = bool(res and res.ok)
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
        states = repo.load_states(s, list(by_source))
        entries: list[LedgerEntry] = []
        new_states: dict[str, SourceLine] = {}
        done: list[tuple[str, str]] = []
        failed: list[tuple[str, str]] = []
        for key, source_rows in by_source.items():
            kind, source_id = key.split(":", 1)
            if any(r.key not in posted_keys for r in source_rows):
                failed.append((kind, source_id))
                continue
            posts = [r for r in source_rows if r.action == "post"]
            amount = _posted_billable(posts) if posts else None
            reference = results[posts[0].key].erp_id if posts else None
            outcome = post(
                states.get(key, SourceLine(key)),
                source_rows[0].version,
                amount,
                reference=reference,
            )
            entries.extend(outcome.entries)
            new_states[key] = outcome.line
            done.append((kind, source_id))
        repo.apply_ledger(s, entries, new_states)
        repo.set_item_status(s, {"done": done, "error": failed})
        batch = s.get(BillingBatch, batch_id)
        if batch is not None:
            batch.status, batch.posted_at = ("posted" if not failed else "partial"), now
        if failed:
            bad = [
                (r, o["error"])
                for r, o in zip(rows, outcome_rows, strict=True)
                if o["status"] == "rejected"
            ]
            _rejected_exception(s, batch_id, bad)
    return {"batch_id": batch_id, "posted": len(rows) - len(failed), "rejected": len(failed)}


def _posted_billable(rows: list[repo.LineRow]) -> Money:
    total = Money.zero(rows[0].currency)
    for r in rows:
        if r.body["erp"]["billable"]:
            total = total + Money.of(r.amount, r.currency)
    return total


def _rejected_exception(
    session: Any, batch_id: str, bad: list[tuple[repo.LineRow, str | None]]
) -> None:
    first = bad[0][0]
    total = sum((r.amount for r, _ in bad if r.currency == first.currency), Decimal(0))
    repos.raise_exception(
        session,
        flow=FLOW,
        kind="business",
        correlation_id=f"psa-project:{first.project_id}",
        source_system="netsuite",
        source_record=f"batch:{batch_id}",
        reason_code="erp.rejected",
        reason=f"{Money.of(total, first.currency)} of approved work refused by the ERP: "
        f"{bad[0][1]}",
        amount=Money.of(total, first.currency),
        legal_entity=first.legal_entity,
        findings=[
            {"code": "erp.rejected", "record": r.source_key, "message": error, "line": r.key}
            for r, error in bad[:500]
        ],
        trigger={"flow": FLOW, "input": {"project_id": first.project_id}},
    )
