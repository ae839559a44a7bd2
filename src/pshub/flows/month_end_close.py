"""Flow ``month_end_close``: one legal entity's period, closed and locked.

    record the run -> compute (gather the hub's facts, run the revenue engine per contract,
      aggregate the period's entries into a few balanced journals, keep the per-contract
      detail in the hub) -> post each journal to the ERP (upsert by external id) -> lock the
      period (time-to-bill moves later entries to the next open period) -> audit

The workflow id is ``close:<entity>:<period>`` (``:r<n>`` after the n-th audited reopen): a
second close of the same period returns the first run's result, and a replayed post step
updates the journal it created, never a second one. Transient ERP errors are retried in the
step and waited out durably; a refusal is a business exception with the journal's amount.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from dbos import DBOS
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import container
from pshub.close import records
from pshub.close.cases import run_all
from pshub.close.facts import gather
from pshub.close.journals import ACCOUNT_IDS, JournalPlan, aggregate, period_end
from pshub.close.ports import ErpJournalDraft, ErpJournalLine, ErpJournalPort
from pshub.connectors.errors import ConnectorError, UnauthorizedError
from pshub.connectors.retry import call_with_retry
from pshub.domain.money import Money
from pshub.domain.revenue import Account
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, step_retry
from pshub.store import repos

FLOW = "month_end_close"


class CloseMonthInput(BaseModel):
    """The one input of the workflow; add fields with defaults only (runs may be in flight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: str
    period: str  # YYYY-MM
    revision: int = 0  # reopenings so far
    actor: str = "pshub"
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.entity, self.period, self.revision)

    @property
    def correlation_id(self) -> str:
        return f"close:{self.entity}:{self.period}"


def workflow_id_for(entity: str, period: str, revision: int = 0) -> str:
    base = f"close:{entity}:{period}"
    return base if revision == 0 else f"{base}:r{revision}"


def start(inp: CloseMonthInput) -> str:
    """Enqueue under the business-key id (a second start is a no-op)."""
    enqueue(FLOW, month_end_close, inp, inp.workflow_id)
    return inp.workflow_id


# --- the workflow ------------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def month_end_close(inp: CloseMonthInput) -> dict[str, Any]:
    record_start(inp)
    computed = compute(inp)
    if "error" in computed:
        return record_failure(inp, "business", computed["error"], computed["reason"], None)
    plans: list[JournalPlan] = computed["plans"]
    posted: dict[str, str] = {}
    try:
        for plan in plans:
            posted[plan.key] = patiently_for(
                inp, post_journal, inp.correlation_id, plan, computed["subsidiary"]
            )
    except DeadLetter as exc:
        return record_failure(inp, "dead_letter", "transient.exhausted", str(exc), plans)
    except ConnectorError as exc:
        code = "vendor.unauthorized" if isinstance(exc, UnauthorizedError) else "vendor.rejected"
        return record_failure(inp, "business", code, str(exc), plans)
    return lock_period(inp, computed["summary"], posted)


# --- steps -------------------------------------------------------------------------------------


@DBOS.step(name="month_end_close.record_start")
def record_start(inp: CloseMonthInput) -> None:
    with container().db.session() as s:
        records.start_run(s, inp.workflow_id, inp.entity, inp.period, inp.revision)
        repos.begin_run(
            s,
            workflow_id=inp.workflow_id,
            flow=FLOW,
            correlation_id=inp.correlation_id,
            attempt=inp.revision + 1,
            entity_type="period",
            entity_id=f"{inp.entity}:{inp.period}",
        )


@DBOS.step(name="month_end_close.compute")
def compute(inp: CloseMonthInput) -> dict[str, Any]:
    """Gather -> engine -> aggregate, and keep results and planned journals in the hub."""
    c = container()
    entity = c.policy().rules.legal_entities.get(inp.entity)
    if entity is None:
        return {"error": "entity.unmapped", "reason": f"legal entity {inp.entity!r} is unknown"}
    with c.db.session() as s:
        if records.is_locked(s, inp.entity, inp.period):
            return {"error": "period.locked", "reason": f"{inp.correlation_id} is locked"}
        facts = gather(s, inp.entity, inp.period)
    outcomes = run_all(facts, inp.period)
    plans = aggregate(inp.entity, inp.period, outcomes)
    summary = _summary(inp, outcomes, plans)
    with c.db.session() as s:
        records.save_outcomes(s, inp.entity, inp.period, inp.workflow_id, outcomes)
        records.save_plans(s, plans, inp.workflow_id)
        records.finish_run(s, inp.workflow_id, "computed", summary)
        repos.audit(s, action="close.computed", correlation_id=inp.correlation_id, **summary)
    return {"plans": plans, "summary": summary, "subsidiary": entity.erp_subsidiary_id}


def _summary(inp: CloseMonthInput, outcomes: list[Any], plans: list[JournalPlan]) -> dict[str, Any]:
    revenue: dict[str, Decimal] = {}
    for o in outcomes:
        if o.result is not None:
            cur = o.result.revenue.currency
            revenue[cur] = revenue.get(cur, Decimal(0)) + o.result.revenue.amount
    return {
        "entity": inp.entity,
        "period": inp.period,
        "contracts": len(outcomes),
        "recognised": sum(1 for o in outcomes if o.result is not None),
        "errors": {o.facts.info.contract_id: o.error for o in outcomes if o.error},
        "revenue": {k: str(v) for k, v in sorted(revenue.items())},
        "journals": [
            {
                "key": p.key,
                "kind": p.kind,
                "currency": p.currency,
                "debit": str(p.total_debit),
                "credit": str(p.total_credit),
                "lines": len(p.lines),
                "contracts": p.contracts,
            }
            for p in plans
        ],
    }


def journal_draft(plan: JournalPlan, subsidiary_id: str) -> ErpJournalDraft:
    accounts = {a.value: ACCOUNT_IDS[a] for a in Account}
    return ErpJournalDraft(
        canonical_id=plan.canonical_id,
        subsidiary_id=subsidiary_id,
        currency=plan.currency,
        tran_date=period_end(plan.period),
        memo=f"pshub close {plan.legal_entity} {plan.period}: {plan.kind}, "
        f"{plan.contracts} contracts",
        lines=tuple(
            ErpJournalLine(
                account_id=accounts[line.account],
                debit=Money.of(line.debit, plan.currency) if line.debit else None,
                credit=Money.of(line.credit, plan.currency) if line.credit else None,
                memo=f"{line.account} — {plan.kind}",
            )
            for line in plan.lines
        ),
    )


@DBOS.step(name="month_end_close.post_journal")
def post_journal(correlation_id: str, plan: JournalPlan, subsidiary_id: str) -> str:
    c = container()
    draft = journal_draft(plan, subsidiary_id)
    poster = cast(ErpJournalPort, c.extras.get("erp_journals", c.erp))
    erp_id = str(call_with_retry(lambda: poster.post_journal(draft), step_retry()))
    with c.db.session() as s:
        records.mark_posted(s, plan.key, erp_id)
        repos.record_hop(
            s,
            action="erp.journal.posted",
            correlation_id=correlation_id,
            entity_type="journal",
            canonical_id=plan.canonical_id,
            system=c.erp.system,
            system_type="journalEntry",
            system_id=erp_id,
            key=plan.key,
            debit=plan.total_debit,
            credit=plan.total_credit,
            currency=plan.currency,
        )
    return erp_id


@DBOS.step(name="month_end_close.lock_period")
def lock_period(
    inp: CloseMonthInput, summary: dict[str, Any], posted: dict[str, str]
) -> dict[str, Any]:
    result = {**summary, "status": "locked", "workflow_id": inp.workflow_id, "posted": posted}
    with container().db.session() as s:
        records.lock(s, inp.entity, inp.period, inp.actor)
        records.finish_run(s, inp.workflow_id, "locked", result)
        repos.resolve_open_exceptions(s, FLOW, inp.correlation_id)
        repos.finish_run(s, inp.workflow_id, "completed", result)
        repos.audit(
            s,
            action="close.period.locked",
            actor=inp.actor,
            correlation_id=inp.correlation_id,
            entity_type="period",
            entity_id=f"{inp.entity}:{inp.period}",
            journals=posted,
        )
    return result


@DBOS.step(name="month_end_close.record_failure")
def record_failure(
    inp: CloseMonthInput, kind: str, code: str, reason: str, plans: list[JournalPlan] | None
) -> dict[str, Any]:
    amount = None
    if plans:
        first = plans[0]
        amount = Money.of(first.total_debit, first.currency)
    with container().db.session() as s:
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind=kind,
            correlation_id=inp.correlation_id,
            source_system="pshub",
            source_record=inp.correlation_id,
            reason_code=code,
            reason=reason,
            amount=amount,
            legal_entity=inp.entity,
            findings=[{"code": code, "message": reason}],
            trigger={"flow": FLOW, "input": inp.model_dump(mode="json")},
        )
        status = repos.end_run_with_exception(
            s, row, workflow_id=inp.workflow_id, correlation_id=inp.correlation_id
        )
        records.finish_run(s, inp.workflow_id, "exception", {"reason_code": code})
    return {"status": status, "exception_id": row.id, "reason_code": code, "reason": reason}
