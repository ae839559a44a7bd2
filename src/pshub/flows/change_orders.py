"""Flow ``change_orders``: an approved change order becomes contract version N+1, everywhere.

    load the contract's current version (hub) -> read the change (CRM opportunity, or the PSA
      change kept at intake) -> amend (domain: terms N+1, diff, findings)
      -> blocking findings?  business exception; the change is ``rejected``
      -> nothing changed?  ``unchanged`` (e.g. the PSA echo of the hub's own push)
      -> ERP order pending approval?  ``waiting``: re-read durably until it is approved
      -> PSA budget and milestones -> ERP sales-order lines -> record version N+1 and the
         ``ContractAmended`` event (hub, one transaction) -> ``applied``

The workflow id is ``change:<contract>:v<N+1>`` (``:a<k>`` for a later attempt at the same
version after a rejected one): one version per id, so a redelivered change starts nothing new.
One vendor call per DBOS step; transient errors are retried, then waited out durably.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from dbos import DBOS
from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import container
from pshub.connectors.errors import ConnectorError, RejectedError, UnauthorizedError
from pshub.connectors.retry import call_with_retry
from pshub.domain.amendments import Amendment, ChangeOrder, ContractTerms, amend, contract_amended
from pshub.domain.change_sources import change_from_opportunity, change_from_psa, project_for
from pshub.domain.money import parse_money
from pshub.domain.projects import Project
from pshub.domain.sales import Opportunity
from pshub.flows import change_state
from pshub.flows.contract_ports import ErpContractPort, ErpOrderDraft, ErpOrderLine, ErpOrderState
from pshub.flows.durable import DeadLetter, enqueue, patiently_for, step_retry
from pshub.flows.ports import PsaProjectRef
from pshub.store import contract_tables as store
from pshub.store import repos

FLOW = "change_orders"


class ApplyChangeInput(BaseModel):
    """The one input of the workflow; add fields with defaults only (runs may be in flight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change_key: str
    contract_id: str
    version: int  # the version this run creates
    attempt: int = 1
    patience_seconds: float = 600.0
    approval_poll_seconds: float = 30.0

    @property
    def workflow_id(self) -> str:
        base = f"change:{self.contract_id}:v{self.version}"
        return base if self.attempt == 1 else f"{base}:a{self.attempt}"

    @property
    def correlation_id(self) -> str:
        return correlation_id_for(self.contract_id)


def correlation_id_for(contract_id: str) -> str:
    return f"contract:{contract_id}"


def start(inp: ApplyChangeInput) -> str:
    """Enqueue under the business-key id (a second start is a no-op)."""
    enqueue(FLOW, change_orders, inp, inp.workflow_id)
    return inp.workflow_id


def erp_contracts() -> ErpContractPort:
    c = container()
    return cast(ErpContractPort, c.extras.get("erp_contracts", c.erp))


# --- the workflow ------------------------------------------------------------------------------


@DBOS.workflow(name=FLOW)
def change_orders(inp: ApplyChangeInput) -> dict[str, Any]:
    record_start(inp)
    try:
        return _apply(inp)
    except DeadLetter as exc:
        return record_failure(inp, "dead_letter", "transient.exhausted", str(exc))
    except ConnectorError as exc:
        code = "vendor.unauthorized" if isinstance(exc, UnauthorizedError) else "vendor.rejected"
        return record_failure(inp, "business", code, str(exc))


def _apply(inp: ApplyChangeInput) -> dict[str, Any]:
    state = load_state(inp.change_key)
    if state is None:
        return record_failure(inp, "business", "change.unmapped", "contract not provisioned")
    change = _read_change(inp, state)
    amendment = amend(state.terms, change)
    if amendment.blocked:
        return record_rejected(inp, change, amendment)
    if amendment.diff.empty:
        return record_unchanged(inp, change)
    terms = amendment.terms
    project = project_for(terms, state.project)
    patiently_for(inp, push_psa, inp.correlation_id, project, state.customer_name)
    draft = order_draft(terms, state.job_id, change.effective_date)
    _push_erp(inp, draft)
    event = contract_amended(amendment, change, project.id, inp.correlation_id, now())
    result = record_amendment(inp, amendment, change, project, event.model_dump(mode="json"))
    remeasure_revenue(inp.correlation_id, terms.contract.id, change.effective_date)
    return result


def _read_change(inp: ApplyChangeInput, state: change_state.ChangeState) -> ChangeOrder:
    request = state.request
    if state.source_system == "salesforce":
        opp = patiently_for(inp, fetch_opportunity, str(request["opportunity"]))
        effective = date.fromisoformat(str(request["effective_date"]))
        return change_from_opportunity(
            state.terms, state.project.id, opp, str(request["change_id"]), effective
        )
    budget = request.get("budget")
    amounts = request.get("milestone_amounts") or {}
    return change_from_psa(
        state.terms,
        str(request["change_id"]),
        date.fromisoformat(str(request["effective_date"])),
        budget=None if budget is None else parse_money(budget),
        milestone_amounts={k: parse_money(v) for k, v in amounts.items()},
    )


def _push_erp(inp: ApplyChangeInput, draft: ErpOrderDraft) -> None:
    """Wait while the ERP order awaits approval (durably: a restart resumes the wait), then
    write; an order that went back to approval between the read and the write is waited for."""
    noted = False
    while True:
        order = patiently_for(inp, read_order, inp.contract_id)
        if order is not None and order.pending_approval:
            if not noted:
                mark_waiting(inp, order)
                noted = True
            DBOS.sleep(inp.approval_poll_seconds)
            continue
        try:
            patiently_for(inp, push_erp, inp.correlation_id, draft)
            return
        except RejectedError:
            order = patiently_for(inp, read_order, inp.contract_id)
            if order is None or not order.pending_approval:
                raise


def order_draft(terms: ContractTerms, job_id: str, tran_date: date) -> ErpOrderDraft:
    """The ERP order lines of a contract version: one line per contract line."""
    c = terms.contract
    return ErpOrderDraft(
        contract_id=c.id,
        version=c.version,
        customer_job_id=job_id,
        currency=c.value.currency,
        tran_date=tran_date,
        start_date=c.start_date,
        end_date=c.end_date,
        lines=tuple(
            ErpOrderLine(
                line_id=line.id,
                description=line.name,
                amount=line.amount,
                bill_date=line.service_date,
            )
            for line in c.lines
        ),
    )


# --- steps ---------------------------------------------------------------------------------------


@DBOS.step(name="change_orders.now")
def now() -> datetime:
    return datetime.now(UTC)


@DBOS.step(name="change_orders.record_start")
def record_start(inp: ApplyChangeInput) -> None:
    with container().db.session() as s:
        repos.begin_run(
            s,
            workflow_id=inp.workflow_id,
            flow=FLOW,
            correlation_id=inp.correlation_id,
            attempt=inp.attempt,
            entity_type="contract",
            entity_id=inp.contract_id,
            change=inp.change_key,
            version=inp.version,
        )


@DBOS.step(name="change_orders.load_state")
def load_state(change_key: str) -> change_state.ChangeState | None:
    c = container()
    with c.db.session() as s:
        return change_state.load(s, change_key, datetime.now(UTC))


@DBOS.step(name="change_orders.fetch_opportunity")
def fetch_opportunity(source_id: str) -> Opportunity:
    crm = container().crm
    return call_with_retry(lambda: crm.get_opportunity(source_id), step_retry())


@DBOS.step(name="change_orders.read_order")
def read_order(contract_id: str) -> ErpOrderState | None:
    port = erp_contracts()
    return call_with_retry(lambda: port.get_contract_order(contract_id), step_retry())


@DBOS.step(name="change_orders.mark_waiting")
def mark_waiting(inp: ApplyChangeInput, order: ErpOrderState) -> None:
    reason = f"ERP order {order.erp_id} is {order.status}: applied once it is approved"
    with container().db.session() as s:
        store.set_status(s, inp.change_key, "waiting", datetime.now(UTC), reason=reason)
        repos.audit(
            s,
            action="change.waiting_for_approval",
            correlation_id=inp.correlation_id,
            entity_type="contract",
            entity_id=inp.contract_id,
            system=erp_contracts().system,
            system_id=order.erp_id,
            change=inp.change_key,
            version=inp.version,
        )


@DBOS.step(name="change_orders.push_psa")
def push_psa(correlation_id: str, project: Project, customer_name: str) -> PsaProjectRef:
    c = container()
    ref = call_with_retry(lambda: c.psa.upsert_project(project, customer_name), step_retry())
    with c.db.session() as s:
        repos.link_all(
            s,
            entity_type="milestone",
            system=c.psa.system,
            system_type="story",
            ids=dict(ref.milestone_ids),
        )
        repos.record_hop(
            s,
            action="psa.project.amended",
            correlation_id=correlation_id,
            entity_type="project",
            canonical_id=project.id,
            system=c.psa.system,
            system_type="workspace",
            system_id=ref.project_id,
            budget=project.budget,
            milestones=len(ref.milestone_ids),
        )
    return ref


@DBOS.step(name="change_orders.push_erp")
def push_erp(correlation_id: str, draft: ErpOrderDraft) -> str:
    c = container()
    port = erp_contracts()
    erp_id = call_with_retry(lambda: port.upsert_contract_order(draft), step_retry())
    with c.db.session() as s:
        repos.record_hop(
            s,
            action="erp.order.amended",
            correlation_id=correlation_id,
            entity_type="contract",
            canonical_id=draft.contract_id,
            system=port.system,
            system_type="salesOrder",
            system_id=erp_id,
            version=draft.version,
            lines=len(draft.lines),
        )
    return erp_id


@DBOS.step(name="change_orders.record_amendment")
def record_amendment(
    inp: ApplyChangeInput,
    amendment: Amendment,
    change: ChangeOrder,
    project: Project,
    event: dict[str, Any],
) -> dict[str, Any]:
    return change_state.record_amendment(container(), inp, amendment, change, project, event, FLOW)


@DBOS.step(name="change_orders.remeasure_revenue")
def remeasure_revenue(correlation_id: str, contract_id: str, effective: date) -> dict[str, Any]:
    """Revenue follows the amendment: the contract's ASC 606 position in the period the change
    takes effect, from the same facts and engine the month-end close uses (versions read as
    modifications), audited on the deal's trail. Nothing is posted: the close posts."""
    return change_state.remeasure_revenue(container(), correlation_id, contract_id, effective)


@DBOS.step(name="change_orders.record_rejected")
def record_rejected(
    inp: ApplyChangeInput, change: ChangeOrder, amendment: Amendment
) -> dict[str, Any]:
    return change_state.record_rejected(container(), inp, change, amendment, FLOW)


@DBOS.step(name="change_orders.record_unchanged")
def record_unchanged(inp: ApplyChangeInput, change: ChangeOrder) -> dict[str, Any]:
    return change_state.record_unchanged(container(), inp, change)


@DBOS.step(name="change_orders.record_failure")
def record_failure(inp: ApplyChangeInput, kind: str, code: str, reason: str) -> dict[str, Any]:
    return change_state.record_failure(container(), inp, kind, code, reason, FLOW)
