"""Time-to-bill planning: what one project's pending work needs from the ERP.

Planning loads the project's pending/held/errored work, asks the domain for priced lines and
the ledger for what to do (post, reverse and re-post, nothing), and returns it all as a
:class:`ProjectPlan` without storing anything: :mod:`.billing_post` sends the lines and
records lines, ledger, statuses and exceptions (holds, bad entries, with the money they hold
back) in one commit. Replanning is safe: line keys (and so ERP external ids) derive from the
source, version and part, and the ledger refuses a version it has posted.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pshub.bootstrap import Container
from pshub.domain.billing import (
    BillingLine,
    LinePart,
    Priced,
    ProjectBilling,
    WorkItem,
    price_work,
)
from pshub.domain.findings import Finding
from pshub.domain.ids import external_id
from pshub.domain.ledger import Action, SourceLine, post
from pshub.domain.money import Money, total
from pshub.domain.sales import BillingModel
from pshub.flows.ports import ErpBillingLine
from pshub.policy import Policy
from pshub.store import billing as repo
from pshub.store import repos

FLOW = "time_to_bill"


@dataclass
class ProjectContext:
    billing: ProjectBilling
    customer_id: str
    job_id: str
    subsidiary_id: str


@dataclass
class ProjectPlan:
    """What one project's pending work needs, decided in memory (nothing stored yet): the
    ERP lines of each source (post, or reverse and re-post), the statuses of the rest
    (held, blocked, nothing to do), and the findings with the money they hold back."""

    project_id: str
    ctx: ProjectContext | None = None
    items: list[WorkItem] = field(default_factory=list)
    rows_by_source: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The billable value each source's new posting carries (None: a reversal only), as the
    # ledger will book it once the ERP has taken the lines.
    billable: dict[str, Money | None] = field(default_factory=dict)
    status: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unchanged: list[tuple[str, int]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(len(rows) for rows in self.rows_by_source.values())

    @property
    def held(self) -> int:
        return len(self.status.get("held", ()))

    @property
    def errors(self) -> int:
        return len(self.status.get("error", ()))


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
    # Billed to date counts toward the cap only: a project without one skips reading it (it
    # reads every line the project ever posted).
    billed = (
        Money.of(
            repo.posted_amounts(session, psa_project_id).get(value.currency, Decimal(0)),
            value.currency,
        )
        if cap is not None
        else None
    )
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
            billed_to_date=billed,
        ),
        customer_id=customer["netsuite"],
        job_id=erp["netsuite"],
        subsidiary_id=entity.erp_subsidiary_id,
    )


def plan_project(
    c: Container, psa_project_id: str, as_of: datetime, policy: Policy | None = None
) -> ProjectPlan:
    """Price one project's pending, held and errored work and decide what the ERP needs.

    Pure apart from reading (and, for a project the hub does not know, raising that
    exception): :mod:`.billing_post` sends the lines and records the outcome in one commit.
    """
    policy = policy or c.policy()
    plan = ProjectPlan(psa_project_id)
    with c.db.session() as s:
        items = repo.work_items_for(s, psa_project_id, ("pending", "held", "error"))
        if not items:
            return plan
        holds = repo.active_holds(s)
        ctx = project_context(c, s, psa_project_id, policy, holds)
        if ctx is None:
            _unknown_project(s, psa_project_id, items)
            plan.status = {"error": [(i.kind.value, i.source_id) for i in items]}
            return plan
        closed = {p for e, p in repo.closed_periods(s) if e == ctx.billing.legal_entity}
        states = repo.load_states(s, [i.key for i in items])
        posted = repo.posted_lines(s, [k for k, st in states.items() if st.version is not None])
    with quiet_gc():
        items = [_with_role(_with_entry_hold(i, holds), policy) for i in items]
        calendar = policy.billing.calendar(as_of.date(), closed)
        approved = [i for i in items if i.approved]
        priced = price_work(
            approved, ctx.billing, calendar, policy.billing.cost_rates(), policy.billing.fx
        )
        rows_by_source, billable, status, unchanged = _decide(
            items, priced, states, posted, ctx, as_of, policy
        )
    plan.ctx, plan.items, plan.findings = ctx, items, priced.findings
    plan.rows_by_source, plan.billable = rows_by_source, billable
    plan.status, plan.unchanged = dict(status), unchanged
    return plan


def _decide(
    items: list[WorkItem],
    priced: Priced,
    states: dict[str, SourceLine],
    posted: dict[str, list[tuple[ErpBillingLine, str]]],
    ctx: ProjectContext,
    as_of: datetime,
    policy: Policy,
) -> tuple[
    dict[str, list[dict[str, Any]]],
    dict[str, Money | None],
    dict[str, list[tuple[str, str]]],
    list[tuple[str, int]],
]:
    """What each item needs: its ERP rows (post, or reverse and re-post) and the billable
    value its posting carries, or a status only."""
    by_source: dict[str, list[BillingLine]] = defaultdict(list)
    for line in priced.lines:
        by_source[f"{line.kind}:{line.source_id}"].append(line)  # a StrEnum formats as its value
    blocked = {f.record for f in priced.findings if f.blocking}
    held = {i.key for i in priced.held}
    rows_by_source: dict[str, list[dict[str, Any]]] = {}
    billable: dict[str, Money | None] = {}
    status: dict[str, list[tuple[str, str]]] = defaultdict(list)
    unchanged: list[tuple[str, int]] = []
    posting_date = as_of.date()
    for item in items:
        key = item.key  # a property that formats a string: read once
        ident = (str(item.kind), item.source_id)
        if key in held:
            status["held"].append(ident)
            continue
        if key in blocked:
            status["error"].append(ident)
            continue
        lines = by_source.get(key, []) if item.approved else []
        amount = _billable(lines) if item.approved else None
        state = states.get(key) or SourceLine(key)
        outcome = post(state, item.version, amount)
        if not outcome.entries:
            status["done"].append(ident)
            continue
        live = _live(posted.get(key, []), state.version)
        new_rows = [_row(line, ctx, item, key, posting_date, policy) for line in lines]
        if len(outcome.entries) == 2 and _same_billing(live, new_rows):
            # A new version with the same billing content (e.g. a timesheet approval that
            # re-versions every entry of the submission): nothing to reverse or re-post.
            status["done"].append(ident)
            unchanged.append((key, item.version))
            continue
        rows = []
        for entry in outcome.entries:
            if entry.action is Action.REVERSE:
                rows += [_reversal(old, entity, item, key, as_of) for old, entity in live]
            else:
                rows += new_rows
        # Posting sets done or error once the ERP has answered.
        rows_by_source[key] = rows
        billable[key] = amount if new_rows else None
    return rows_by_source, billable, status, unchanged


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection during a hot loop of many short-lived objects.

    Month-end planning and posting allocate millions of objects that die young without
    cycles; the collector's generation scans of them cost about a fifth of the CPU. Counted
    across threads: collection resumes when the last hot loop ends.
    """
    global _QUIET
    with _QUIET_LOCK:
        _QUIET += 1
        if _QUIET == 1:
            gc.disable()
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET -= 1
            if _QUIET == 0:
                gc.enable()


_QUIET = 0
_QUIET_LOCK = threading.Lock()


def _with_entry_hold(item: WorkItem, holds: dict[tuple[str, str], str]) -> WorkItem:
    reason = holds.get(("entry", item.key))
    return (
        item if reason is None else item.model_copy(update={"on_hold": True, "hold_reason": reason})
    )


_SAME = (
    "kind",
    "customer_id",
    "job_id",
    "employee",
    "work_date",
    "period",
    "hours",
    "rate",
    "amount",
    "cost",
    "currency",
    "billable",
    "tax_code",
)


def _live(
    posted: list[tuple[ErpBillingLine, str]], version: int | None
) -> list[tuple[ErpBillingLine, str]]:
    """The ERP lines of the live posting only (older versions were reversed already)."""
    marker = f":v{version}:"
    return [(line, entity) for line, entity in posted if marker in line.key]


def _same_billing(live: list[tuple[ErpBillingLine, str]], rows: list[dict[str, Any]]) -> bool:
    """Whether the new version's lines bill exactly what the live posting bills."""
    if not live or len(live) != len(rows):
        return False

    def part(key: str) -> str:
        return key.rsplit(":", 1)[-1]

    def fingerprint(body: dict[str, Any]) -> tuple[str, ...]:
        return (part(str(body["key"])), *(str(body.get(f)) for f in _SAME))

    old = sorted(fingerprint(line.to_json()) for line, _ in live)
    new = sorted(fingerprint(r["erp"].to_json()) for r in rows)
    return old == new


def _with_role(item: WorkItem, policy: Policy) -> WorkItem:
    """The billing role: the consultant's role of record (consultants.yaml, from HCM) when the
    firm lists the consultant, else the role the PSA gave (a PSA headline is not a rate role)."""
    consultant = policy.billing.consultants.get(item.consultant_id or "")
    if consultant is None or item.role == consultant.role:
        return item
    return item.with_role(consultant.role)


def _billable(lines: list[BillingLine]) -> Money | None:
    if not lines:
        return None
    first = lines[0].amount
    billable = [line.amount for line in lines if line.part is LinePart.BILLABLE]
    if len(billable) == 1:
        return billable[0]  # the usual case: one billable line, its Money as it is
    return total(billable, first.currency)


def _row(
    line: BillingLine,
    ctx: ProjectContext,
    item: WorkItem,
    source_key: str,
    posting_date: date,
    policy: Policy,
) -> dict[str, Any]:
    consultant = policy.billing.consultants.get(line.consultant_id or "")
    part = str(line.part)
    kind = str(line.kind)
    memo = f"{kind} {line.source_id} v{line.version} {part}" + (
        f" — {line.note}" if line.note else ""
    )
    erp = ErpBillingLine(
        key=line.key,
        external_id=external_id(line.key),
        action="post",
        kind=kind,
        customer_id=ctx.customer_id,
        job_id=ctx.job_id,
        subsidiary_id=ctx.subsidiary_id,
        employee=consultant.erp_employee_id if consultant else None,
        work_date=line.work_date,
        posting_date=posting_date,
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
    return _line_row(erp, item, source_key, line.legal_entity, "post")


def _reversal(
    old: ErpBillingLine, entity: str, item: WorkItem, source_key: str, as_of: datetime
) -> dict[str, Any]:
    key = f"{old.key}:reverse:v{item.version}"
    erp = replace(
        old,
        key=key,
        external_id=external_id(key),
        action="reverse",
        reverses=old.key,
        posting_date=as_of.date(),
        memo=f"reversal of {old.key} (superseded by version {item.version})",
    )
    return _line_row(erp, item, source_key, entity, "reverse")


def _line_row(
    erp: ErpBillingLine, item: WorkItem, source_key: str, entity: str, action: str
) -> dict[str, Any]:
    return {
        "key": erp.key,
        "source_key": source_key,
        "version": item.version,
        "action": action,
        "project_id": item.project_id,
        "legal_entity": entity,
        "period": erp.period,
        "amount": erp.amount,
        "currency": erp.currency,
        "approved_at": item.approved_at,
        "posting_date": erp.posting_date,
        "erp": erp,
    }


def requests(plan: ProjectPlan, size: int, run: str) -> dict[str, list[dict[str, Any]]]:
    """The plan's lines as ERP requests of at most ``size`` lines, never splitting one
    source's lines, each under an id hashed from its line keys and the run (id and as-of
    instant): the id is stored with the lines, naming the request that carried them."""
    batches: list[list[dict[str, Any]]] = [[]]
    for rows in plan.rows_by_source.values():
        if batches[-1] and len(batches[-1]) + len(rows) > size:
            batches.append([])
        batches[-1].extend(rows)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for rows in batches:
        if not rows:
            continue
        digest = hashlib.sha1(
            ("|".join(sorted(r["key"] for r in rows)) + f"#{run}").encode(),
            usedforsecurity=False,
        ).hexdigest()[:20]
        batch_id = f"ttb-{digest}"
        for r in rows:
            r["batch_id"] = batch_id
        by_id[batch_id] = rows
    return by_id


def _unknown_project(session: Any, project_id: str, items: list[WorkItem]) -> None:
    repo.set_item_status(
        session, project_id, {"error": [(i.kind.value, i.source_id) for i in items]}
    )
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


def raise_exceptions(
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
