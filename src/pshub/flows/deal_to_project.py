"""Flow ``deal_to_project``: a closed-won deal becomes a customer, a PSA project and an ERP job.

    fetch opportunity + account chain (CRM) -> load policy -> validate (domain)
      -> findings?  business exception (reason, deal value) and stop
      -> upsert customers root-to-leaf (ERP) -> upsert project from template (PSA)
      -> upsert job under the customer (ERP) -> write ids back (CRM) -> complete

Each vendor call is one DBOS step, retried in-step on transient errors. A target that stays
down is waited for durably (``DBOS.sleep``), so a crash or restart resumes the wait; past the
patience the work is dead-lettered with everything needed to replay it.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import container
from pshub.connectors.errors import ConnectorError, UnauthorizedError
from pshub.connectors.retry import RetryPolicy, call_with_retry
from pshub.domain.findings import Finding
from pshub.domain.parties import MAX_HIERARCHY_DEPTH, Account, LegalEntity, ancestry
from pshub.domain.projects import Project
from pshub.domain.provisioning import ProvisioningRules, plan_provisioning, validate_deal
from pshub.domain.sales import Opportunity
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, step_retry
from pshub.flows.ports import CrmPort, ProvisioningWriteBack, PsaProjectRef
from pshub.store import repos

FLOW = "deal_to_project"


class ProvisionDealInput(BaseModel):
    """The one input of the workflow; add fields with defaults only (runs may be in flight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str
    source_system: str = "salesforce"
    opportunity_source_id: str
    event_id: str | None = None
    inbox_id: int | None = None
    attempt: int = 1
    patience_seconds: float = 600.0

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.source_system, self.opportunity_source_id, self.attempt)


def workflow_id_for(source_system: str, opportunity_id: str, attempt: int) -> str:
    return f"{FLOW}:{source_system}:{opportunity_id}:a{attempt}"


def correlation_id_for(source_system: str, opportunity_id: str) -> str:
    return f"deal:{source_system}:{opportunity_id}"


def start(inp: ProvisionDealInput) -> str:
    """Enqueue the workflow under its business-key id (a second start is a no-op)."""
    enqueue(FLOW, deal_to_project, inp, inp.workflow_id)
    return inp.workflow_id


# --- the workflow ----------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def deal_to_project(inp: ProvisionDealInput) -> dict[str, Any]:
    record_start(inp)
    seen: dict[str, Opportunity] = {}
    try:
        return _provision(inp, seen)
    except DeadLetter as exc:
        return record_failure(inp, seen.get("opp"), "dead_letter", "transient.exhausted", str(exc))
    except ConnectorError as exc:
        code = "vendor.unauthorized" if isinstance(exc, UnauthorizedError) else "vendor.rejected"
        return record_failure(inp, seen.get("opp"), "business", code, str(exc), exc.as_dict())


def _provision(inp: ProvisionDealInput, seen: dict[str, Opportunity]) -> dict[str, Any]:
    opp = seen["opp"] = patiently_for(inp, fetch_opportunity, inp.opportunity_source_id)
    accounts = patiently_for(inp, fetch_account_chain, opp.account)
    rules = load_rules()
    findings = validate_deal(opp, rules, accounts)
    if findings:
        return record_findings(inp, opp, findings)
    plan = plan_provisioning(opp, rules, accounts)
    parent_erp_id: str | None = None
    for account in [*reversed(ancestry(opp.account, accounts)), opp.account]:
        parent_erp_id = patiently_for(
            inp, upsert_customer, inp.correlation_id, account, plan.entity, parent_erp_id
        )
    assert parent_erp_id is not None
    customer_erp_id = parent_erp_id
    psa = patiently_for(inp, upsert_project, inp.correlation_id, plan.project, opp.account.name)
    job_id = patiently_for(
        inp, upsert_job, inp.correlation_id, plan.project, customer_erp_id, plan.entity
    )
    ids = ProvisioningWriteBack(
        canonical_contract_id=plan.contract.id,
        psa_project_id=psa.project_id,
        erp_customer_id=customer_erp_id,
        erp_job_id=job_id,
    )
    patiently_for(inp, write_back, inp.correlation_id, opp.source_id, ids)
    return record_completion(
        inp,
        opp,
        plan.contract.model_dump(mode="json"),
        plan.project.model_dump(mode="json"),
        ids,
        psa,
    )


# --- steps: each touches the world once ------------------------------------------------------


def _retry() -> RetryPolicy:
    return step_retry()


@DBOS.step(name="deal_to_project.record_start")
def record_start(inp: ProvisionDealInput) -> None:
    with container().db.session() as s:
        repos.begin_run(
            s,
            workflow_id=inp.workflow_id,
            flow=FLOW,
            correlation_id=inp.correlation_id,
            attempt=inp.attempt,
            inbox_id=inp.inbox_id,
            entity_type="opportunity",
            entity_id=inp.opportunity_source_id,
            system=inp.source_system,
            system_id=inp.opportunity_source_id,
            event_id=inp.event_id,
        )


@DBOS.step(name="deal_to_project.fetch_opportunity")
def fetch_opportunity(source_id: str) -> Opportunity:
    crm = container().crm
    return call_with_retry(lambda: crm.get_opportunity(source_id), _retry())


@DBOS.step(name="deal_to_project.fetch_account_chain")
def fetch_account_chain(account: Account) -> dict[str, Account]:
    """The account and its parents as far as the CRM knows them (validation judges the chain)."""
    crm = container().crm
    known = {account.source_id: account}
    current = account
    for _ in range(MAX_HIERARCHY_DEPTH):
        parent_id = current.parent_source_id
        if parent_id is None or parent_id in known:
            break
        try:
            current = _get_account(crm, parent_id)
        except ConnectorError as exc:
            if exc.retryable:
                raise
            break  # an unknown parent is a finding, not a crash
        known[current.source_id] = current
    return known


def _get_account(crm: CrmPort, source_id: str) -> Account:
    return call_with_retry(lambda: crm.get_account(source_id), _retry())


@DBOS.step(name="deal_to_project.load_rules")
def load_rules() -> ProvisioningRules:
    return container().policy().rules


@DBOS.step(name="deal_to_project.upsert_customer")
def upsert_customer(
    correlation_id: str, account: Account, entity: LegalEntity, parent_erp_id: str | None
) -> str:
    c = container()
    erp_id = call_with_retry(
        lambda: c.erp.upsert_customer(account, entity, parent_erp_id), _retry()
    )
    with c.db.session() as s:
        repos.link(
            s,
            entity_type="account",
            canonical_id=account.id,
            system="salesforce",
            system_type="Account",
            system_id=account.source_id,
        )
        repos.save_record(s, "account", account.id, account.model_dump(mode="json"), correlation_id)
        repos.record_hop(
            s,
            action="erp.customer.upserted",
            correlation_id=correlation_id,
            entity_type="account",
            canonical_id=account.id,
            system=c.erp.system,
            system_type="customer",
            system_id=erp_id,
            subsidiary=entity.erp_subsidiary_id,
            parent=parent_erp_id,
            name=account.name,
        )
    return erp_id


@DBOS.step(name="deal_to_project.upsert_project")
def upsert_project(correlation_id: str, project: Project, customer_name: str) -> PsaProjectRef:
    c = container()
    ref = call_with_retry(lambda: c.psa.upsert_project(project, customer_name), _retry())
    with c.db.session() as s:
        for kind, mapping in (("task", ref.task_ids), ("milestone", ref.milestone_ids)):
            repos.link_all(
                s, entity_type=kind, system=c.psa.system, system_type="story", ids=mapping
            )
        repos.record_hop(
            s,
            action="psa.project.upserted",
            correlation_id=correlation_id,
            entity_type="project",
            canonical_id=project.id,
            system=c.psa.system,
            system_type="workspace",
            system_id=ref.project_id,
            template=project.template,
            tasks=len(ref.task_ids),
            milestones=len(ref.milestone_ids),
        )
    return ref


@DBOS.step(name="deal_to_project.upsert_job")
def upsert_job(
    correlation_id: str, project: Project, customer_erp_id: str, entity: LegalEntity
) -> str:
    c = container()
    job_id = call_with_retry(lambda: c.erp.upsert_job(project, customer_erp_id, entity), _retry())
    with c.db.session() as s:
        repos.record_hop(
            s,
            action="erp.job.upserted",
            correlation_id=correlation_id,
            entity_type="project",
            canonical_id=project.id,
            system=c.erp.system,
            system_type="job",
            system_id=job_id,
            customer=customer_erp_id,
        )
    return job_id


@DBOS.step(name="deal_to_project.write_back")
def write_back(correlation_id: str, opportunity_id: str, ids: ProvisioningWriteBack) -> None:
    c = container()
    call_with_retry(lambda: c.crm.write_back_provisioning(opportunity_id, ids), _retry())
    with c.db.session() as s:
        repos.audit(
            s,
            action="crm.opportunity.written_back",
            correlation_id=correlation_id,
            entity_type="opportunity",
            system=c.crm.system,
            system_id=opportunity_id,
            **ids.model_dump(),
        )


@DBOS.step(name="deal_to_project.record_findings")
def record_findings(
    inp: ProvisionDealInput, opp: Opportunity, findings: list[Finding]
) -> dict[str, Any]:
    first = findings[0]
    reason = "; ".join(f.message for f in findings)
    with container().db.session() as s:
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind="business",
            correlation_id=inp.correlation_id,
            source_system=inp.source_system,
            source_record=opp.source_id,
            reason_code=first.code,
            reason=reason,
            amount=opp.amount,
            legal_entity=opp.legal_entity,
            findings=[f.model_dump(mode="json") for f in findings],
            trigger=_trigger(inp),
        )
        repos.end_run_with_exception(
            s,
            row,
            workflow_id=inp.workflow_id,
            correlation_id=inp.correlation_id,
            entity_type="opportunity",
            system=inp.source_system,
            system_id=opp.source_id,
            amount=opp.amount,
        )
    return {
        "status": "exception",
        "exception_id": row.id,
        "reason_code": first.code,
        "reason": reason,
        "amount": str(opp.amount.amount),
        "currency": opp.currency,
    }


@DBOS.step(name="deal_to_project.record_failure")
def record_failure(
    inp: ProvisionDealInput,
    opp: Opportunity | None,
    kind: str,
    code: str,
    reason: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    c = container()
    with c.db.session() as s:
        row = repos.raise_exception(
            s,
            flow=FLOW,
            kind=kind,
            correlation_id=inp.correlation_id,
            source_system=inp.source_system,
            source_record=inp.opportunity_source_id,
            reason_code=code,
            reason=reason,
            amount=opp.amount if opp else None,
            legal_entity=opp.legal_entity if opp else None,
            findings=[{"code": code, "message": reason, **(detail or {})}],
            trigger=_trigger(inp),
        )
        repos.end_run_with_exception(
            s, row, workflow_id=inp.workflow_id, correlation_id=inp.correlation_id
        )
    return {
        "status": "exception" if kind == "business" else "dead_letter",
        "exception_id": row.id,
        "reason_code": code,
        "reason": reason,
    }


@DBOS.step(name="deal_to_project.record_completion")
def record_completion(
    inp: ProvisionDealInput,
    opp: Opportunity,
    contract: dict[str, Any],
    project: dict[str, Any],
    ids: ProvisioningWriteBack,
    psa: PsaProjectRef,
) -> dict[str, Any]:
    c = container()
    with c.db.session() as s:
        repos.save_record(s, "opportunity", opp.id, opp.model_dump(mode="json"), inp.correlation_id)
        repos.link(
            s,
            entity_type="opportunity",
            canonical_id=opp.id,
            system=opp.source_system,
            system_type="Opportunity",
            system_id=opp.source_id,
        )
        repos.save_record(s, "contract", contract["id"], contract, inp.correlation_id)
        repos.save_record(s, "project", project["id"], project, inp.correlation_id)
        repos.resolve_open_exceptions(s, FLOW, opp.source_id)
        result = {
            "status": "completed",
            "opportunity_id": opp.source_id,
            "contract_id": contract["id"],
            "project_id": project["id"],
            "system_ids": ids.model_dump(),
            "milestones": len(psa.milestone_ids),
        }
        repos.finish_run(s, inp.workflow_id, "completed", result)
        repos.audit(
            s,
            action="flow.completed",
            correlation_id=inp.correlation_id,
            entity_type="contract",
            entity_id=contract["id"],
            value=opp.amount,
        )
    return result


def _trigger(inp: ProvisionDealInput) -> dict[str, Any]:
    return {"flow": FLOW, "input": inp.model_dump(mode="json")}
