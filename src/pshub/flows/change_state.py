"""What the change-order flow reads and records in the hub (called from its steps).

:func:`load` assembles the contract's current terms (version 1 is recorded from the provisioned
contract and project the first time), the project, the customer's name and the ERP job; the
``record_*`` functions end a run: a new version with its event, a rejection, an unchanged
change or a failure, each with the change order's status and the audit trail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from pshub.bootstrap import Container
from pshub.domain.amendments import (
    Amendment,
    ChangeOrder,
    ContractAmended,
    ContractTerms,
    initial_terms,
)
from pshub.domain.contracts import Contract
from pshub.domain.ids import canonical_id
from pshub.domain.projects import Project
from pshub.store import contract_tables as store
from pshub.store import repos

if TYPE_CHECKING:
    from pshub.flows.change_orders import ApplyChangeInput


class ChangeState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    terms: ContractTerms
    project: Project
    customer_name: str
    job_id: str
    source_system: str
    request: dict[str, Any]


def project_id_of(session: Session, contract: Contract) -> str | None:
    opp = repos.get_record(session, "opportunity", contract.opportunity_id)
    if opp is None:
        return None
    return canonical_id("project", str(opp["source_system"]), str(opp["source_id"]))


def current_terms(session: Session, contract_id: str, now: datetime) -> ContractTerms | None:
    """The latest version; version 1 is recorded from the provisioned records on first use."""
    terms = store.latest_terms(session, contract_id)
    if terms is not None:
        return terms
    body = repos.get_record(session, "contract", contract_id)
    if body is None:
        return None
    contract = Contract.model_validate(body)
    project_id = project_id_of(session, contract)
    project_body = None if project_id is None else repos.get_record(session, "project", project_id)
    if project_body is None:
        return None
    terms = initial_terms(contract, Project.model_validate(project_body))
    store.add_first_version(session, terms, contract.start_date, now)
    return terms


def load(
    session: Session, change_key: str, now: datetime, erp: str = "netsuite"
) -> ChangeState | None:
    row = store.change_row(session, change_key)
    if row is None or row.change is None:
        return None
    terms = current_terms(session, row.contract_id, now)
    if terms is None:
        return None
    project_id = project_id_of(session, terms.contract)
    project_body = None if project_id is None else repos.get_record(session, "project", project_id)
    account = repos.get_record(session, "account", terms.contract.account_id) or {}
    job_id = (
        None if project_id is None else repos.system_ids(session, "project", project_id).get(erp)
    )
    if project_body is None or job_id is None:
        return None
    return ChangeState(
        terms=terms,
        project=Project.model_validate(project_body),
        customer_name=str(account.get("name") or ""),
        job_id=job_id,
        source_system=row.source_system,
        request=dict(row.change),
    )


def record_amendment(
    c: Container,
    inp: ApplyChangeInput,
    amendment: Amendment,
    change: ChangeOrder,
    project: Project,
    event: dict[str, Any],
    flow: str,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    terms = amendment.terms
    amended = ContractAmended.model_validate(event)
    with c.db.session() as s:
        store.add_version(s, terms, amended, now)
        repos.save_record(
            s,
            "contract",
            terms.contract.id,
            terms.contract.model_dump(mode="json"),
            inp.correlation_id,
        )
        repos.save_record(s, "project", project.id, project.model_dump(mode="json"))
        store.set_status(s, inp.change_key, "applied", now, version=terms.version)
        repos.resolve_open_exceptions(s, flow, inp.change_key)
        result = {
            "status": "applied",
            "contract_id": terms.contract.id,
            "version": terms.version,
            "price_change": str(amended.price_change.amount),
            "currency": amended.price_change.currency,
            "event_id": amended.event_id,
        }
        repos.finish_run(s, inp.workflow_id, "completed", result)
        repos.audit(
            s,
            action="contract.amended",
            correlation_id=inp.correlation_id,
            entity_type="contract",
            entity_id=terms.contract.id,
            version=terms.version,
            change=inp.change_key,
            price_change=amended.price_change,
            added_scope=amended.added_scope,
            removed_scope=amended.removed_scope,
        )
    return result


def record_rejected(
    c: Container, inp: ApplyChangeInput, change: ChangeOrder, amendment: Amendment, flow: str
) -> dict[str, Any]:
    findings = [f for f in amendment.findings if f.blocking]
    reason = "; ".join(f"{f.field}: {f.message}" for f in findings)
    return _exception(
        c,
        inp,
        "business",
        findings[0].code,
        reason,
        flow,
        "rejected",
        change,
        [f.model_dump(mode="json") for f in findings],
    )


def record_failure(
    c: Container, inp: ApplyChangeInput, kind: str, code: str, reason: str, flow: str
) -> dict[str, Any]:
    return _exception(
        c, inp, kind, code, reason, flow, "failed", None, [{"code": code, "message": reason}]
    )


def _exception(
    c: Container,
    inp: ApplyChangeInput,
    kind: str,
    code: str,
    reason: str,
    flow: str,
    status: str,
    change: ChangeOrder | None,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    now = datetime.now(UTC)
    with c.db.session() as s:
        row = repos.raise_exception(
            s,
            flow=flow,
            kind=kind,
            correlation_id=inp.correlation_id,
            source_system=inp.change_key.split(":", 1)[0],
            source_record=inp.change_key,
            reason_code=code,
            reason=reason,
            amount=None if change is None else change.value,
            legal_entity=None,
            findings=findings,
            trigger={"flow": flow, "input": inp.model_dump(mode="json")},
        )
        store.set_status(s, inp.change_key, status, now, reason=reason)
        repos.end_run_with_exception(
            s, row, workflow_id=inp.workflow_id, correlation_id=inp.correlation_id
        )
    return {"status": status, "exception_id": row.id, "reason_code": code, "reason": reason}


def record_unchanged(c: Container, inp: ApplyChangeInput, change: ChangeOrder) -> dict[str, Any]:
    now = datetime.now(UTC)
    result = {"status": "unchanged", "contract_id": inp.contract_id, "change": inp.change_key}
    with c.db.session() as s:
        store.set_status(s, inp.change_key, "unchanged", now, reason="the change alters nothing")
        repos.finish_run(s, inp.workflow_id, "completed", result)
        repos.audit(
            s,
            action="change.unchanged",
            correlation_id=inp.correlation_id,
            entity_type="contract",
            entity_id=inp.contract_id,
            change=inp.change_key,
            source=change.source_system,
        )
    return result


def remeasure_revenue(
    c: Container, correlation_id: str, contract_id: str, effective: date
) -> dict[str, Any]:
    """The contract's revenue position in ``effective``'s period after the amendment (the
    close's facts and engine; nothing posted), recorded as a ``revenue.remeasured`` hop."""
    from pshub.close.cases import run_one
    from pshub.close.facts import gather

    period = f"{effective:%Y-%m}"
    with c.db.session() as s:
        contract = repos.get_record(s, "contract", contract_id) or {}
        entity = str(contract.get("legal_entity") or "")
        facts = next(
            (f for f in gather(s, entity, period) if f.info.contract_id == contract_id), None
        )
        if facts is None:
            return {"status": "not_found"}
        outcome = run_one(facts, period)
        r = outcome.result
        detail: dict[str, Any] = {"period": period, "error": outcome.error}
        if r is not None:
            detail.update(
                transaction_price=str(r.transaction_price.amount),
                cumulative_revenue=str(r.cumulative_revenue.amount),
                revenue=str(r.revenue.amount),
                contract_asset=str(r.contract_asset.amount),
                contract_liability=str(r.contract_liability.amount),
                currency=r.revenue.currency,
                treatments=[m.treatment.value for m in r.modifications],
            )
        repos.audit(
            s,
            action="revenue.remeasured",
            correlation_id=correlation_id,
            entity_type="revenue",
            entity_id=f"{contract_id}:{period}",
            **detail,
        )
    return detail
