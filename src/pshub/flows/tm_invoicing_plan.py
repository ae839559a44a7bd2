"""T&M invoicing services: plan a project's invoices, and record what the ERP made of them.

Plain functions over the container (the ``tm_invoicing`` workflow calls them from its steps;
tests and the flow-level property test call them directly). Planning reads the project's
posted and re-billable lines, applies holds, the re-bill rule, the contract's grouping and its
not-to-exceed cap (domain), stores each invoice with its lines as "planned" before any ERP
call, and raises business exceptions with the money they hold back. Recording appends the
ledger's invoice (and re-bill) entries for exactly the lines the ERP invoice carries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from pshub.bootstrap import Container
from pshub.domain.contracts import Contract
from pshub.domain.findings import Finding
from pshub.domain.invoicing import InvoiceStatus, tax_profile
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel
from pshub.domain.tm_invoicing import (
    InvoiceableLine,
    apply_cap,
    group_lines,
    invoice_id,
    line_description,
    may_invoice,
)
from pshub.flows.invoicing_ports import ErpInvoiceDraft, ErpInvoiceLine
from pshub.flows.milestone_context import invoicing_rules
from pshub.store import repos, tm_ledger
from pshub.store import tm_invoicing as store

FLOW = "tm_invoicing"
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class PlannedInvoice(BaseModel):
    """One invoice of a run, as planned (checkpointed by the workflow)."""

    model_config = _FROZEN

    invoice_id: str
    group_key: str
    project_id: str  # PSA project id
    canonical_project_id: str
    correlation_id: str
    net: Money
    draft: ErpInvoiceDraft
    source_keys: tuple[str, ...]


class RunPlan(BaseModel):
    model_config = _FROZEN

    invoices: tuple[PlannedInvoice, ...] = ()
    lines: int = 0
    held: int = 0
    exceptions: tuple[str, ...] = ()  # reason codes raised


class _Context(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    project_id: str
    contract: Contract
    job_id: str
    subsidiary_id: str
    tax_rate: Decimal
    opportunity_id: str | None


def correlation_id_for(project_id: str) -> str:
    return f"tm-invoicing:{project_id}"


def plan_project(c: Container, project_id: str, period: str, invoice_date: date) -> RunPlan:
    """Plan (and store as planned) the invoices of one PSA project for ``period``."""
    rules = invoicing_rules(c)
    cap_policy = c.policy().billing.rules.tm_not_to_exceed
    with c.db.session() as s:
        ctx = _context(c, s, project_id)
        found = store.candidates(s, project_id, period)
        if ctx is None:
            return RunPlan(exceptions=_unknown(s, project_id, found))
        project_hold, entry_holds = store.held(s, project_id, [x.line.source_key for x in found])
        books = tm_ledger.load(s, [x.line.source_key for x in found])
        findings: list[Finding] = []
        lines: list[InvoiceableLine] = []
        for cand in found:
            book = books.get(cand.line.source_key)
            reason = project_hold or entry_holds.get(cand.line.source_key)
            if book is None:
                continue
            if reason is not None:
                findings.append(_finding("invoice.billing_hold", cand.line, f"on hold: {reason}"))
            elif not may_invoice(book.invoices, book.credits):
                findings.append(_finding("invoice.rebill_exhausted", cand.line, _EXHAUSTED))
            else:
                lines.append(_with_history(cand.line, book.invoices))
        contract = ctx.contract
        grouping = rules.tm.grouping(contract.id, contract.service_line)
        groups, more = group_lines(project_id, period, contract.id, grouping, rules.tm, lines)
        findings += more
        cap = (
            contract.value
            if contract.billing_model is BillingModel.TIME_AND_MATERIALS
            and cap_policy == "contract_value"
            else None
        )
        currency = contract.value.currency
        groups, capped = apply_cap(groups, store.invoiced_total(s, project_id, currency), cap)
        findings += capped
        planned = [
            _store_plan(s, ctx, g.key, g.label, g.lines, invoice_id(g), period, invoice_date, c)
            for g in groups
        ]
        codes = _raise(s, ctx, project_id, findings)
    return RunPlan(
        invoices=tuple(planned),
        lines=sum(len(p.source_keys) for p in planned),
        held=sum(1 for f in findings if f.code == "invoice.billing_hold"),
        exceptions=codes,
    )


_EXHAUSTED = "credited again after its one re-bill: a person decides whether to bill it"


def _with_history(line: InvoiceableLine, invoices: int) -> InvoiceableLine:
    return InvoiceableLine(
        line.source_key,
        line.version,
        line.amount,
        line.period,
        line.work_date,
        line.hours,
        line.rate,
        invoices,
        line.description,
    )


def _finding(code: str, line: InvoiceableLine, message: str) -> Finding:
    return Finding(
        code=code,
        field="billing_state",
        message=f"{line.source_key}: {message}",
        record=line.source_key,
        amount=line.amount,
    )


def _context(c: Container, s: Session, project_id: str) -> _Context | None:
    canonical = repos.canonical_for(s, "kantata", "workspace", project_id)
    project = canonical and repos.get_record(s, "project", canonical)
    contract_body = project and repos.get_record(s, "contract", project["contract_id"])
    if not canonical or not contract_body:
        return None
    contract = Contract.model_validate(contract_body)
    entity = c.policy().rules.legal_entities.get(contract.legal_entity)
    job = repos.system_ids(s, "project", canonical).get("netsuite")
    profile = tax_profile(entity, contract) if entity else None
    if entity is None or job is None:
        return None
    opportunity = repos.system_ids(s, "opportunity", contract.opportunity_id).get("salesforce")
    return _Context(
        project_id=canonical,
        contract=contract,
        job_id=job,
        subsidiary_id=entity.erp_subsidiary_id,
        tax_rate=profile.rate if profile else Decimal(0),
        opportunity_id=opportunity,
    )


def _store_plan(
    s: Session,
    ctx: _Context,
    key: str,
    label: str,
    lines: tuple[InvoiceableLine, ...],
    inv_id: str,
    period: str,
    invoice_date: date,
    c: Container,
) -> PlannedInvoice:
    rules = invoicing_rules(c)
    currency = lines[0].amount.currency
    net = Money.zero(currency)
    for x in lines:
        net = net + x.amount
    tax_code_id = rules.tax_code_ids.get(ctx.contract.tax_code)
    draft = ErpInvoiceDraft(
        canonical_id=inv_id,
        customer_job_id=ctx.job_id,
        currency=currency,
        tran_date=invoice_date,
        lines=tuple(
            _erp_line(x, rules.tm.time_item_id, rules.tm.expense_item_id, tax_code_id)
            for x in lines
        ),
        subsidiary_id=ctx.subsidiary_id,
        memo=f"Time & materials {period}: {label}",
        pending_approval=rules.pending_approval,
    )
    psa_project = key.split(":", 1)[0]
    store.save_planned(
        s,
        {
            "invoice_id": inv_id,
            "source": "tm",
            "source_id": key[:80],
            "project_id": ctx.project_id,
            "contract_id": ctx.contract.id,
            "opportunity_id": ctx.opportunity_id,
            "legal_entity": ctx.contract.legal_entity,
            "currency": currency,
            "net": net.amount,
            "tax": (net * ctx.tax_rate).rounded().amount,
            "tax_code": ctx.contract.tax_code,
            "status": InvoiceStatus.OPEN.value,
            "invoice_date": invoice_date,
            "due_date": invoice_date + timedelta(days=rules.payment_terms_days),
            "correlation_id": correlation_id_for(psa_project),
        },
        [
            {
                "invoice_id": inv_id,
                "source_key": x.source_key,
                "version": x.version,
                "project_id": psa_project,
                "period": period,
                "amount": x.amount.amount,
                "currency": currency,
                "description": d.description or "",
                "rebill": x.prior_invoices > 0,
            }
            for x, d in zip(lines, draft.lines, strict=True)
        ],
    )
    return PlannedInvoice(
        invoice_id=inv_id,
        group_key=key,
        project_id=psa_project,
        canonical_project_id=ctx.project_id,
        correlation_id=correlation_id_for(psa_project),
        net=net,
        draft=draft,
        source_keys=tuple(x.source_key for x in lines),
    )


def _erp_line(
    x: InvoiceableLine, time_item: str, expense_item: str, tax: str | None
) -> ErpInvoiceLine:
    hourly = x.hours is not None and x.rate is not None and x.hours > 0
    return ErpInvoiceLine(
        item_id=time_item if x.kind == "time" else expense_item,
        quantity=x.hours if hourly and x.hours is not None else Decimal(1),
        rate=x.rate if hourly and x.rate is not None else x.amount,
        amount=x.amount,
        tax_code_id=tax,
        description=line_description(x.source_key, x.description),
    )


# --- exceptions --------------------------------------------------------------------------------


def _raise(s: Session, ctx: _Context, psa: str, findings: list[Finding]) -> tuple[str, ...]:
    """One exception per (project, reason) with its lines and money; stale ones resolve."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.code].append(f)
    for code, found in groups.items():
        amount = _sum([f.amount for f in found if f.amount is not None])
        repos.raise_exception(
            s,
            flow=FLOW,
            kind="business",
            correlation_id=correlation_id_for(psa),
            source_system="kantata",
            source_record=f"tm:{psa}:{code}",
            reason_code=code,
            reason=f"{amount} of posted work not invoiced: {found[0].message}"
            if amount is not None
            else found[0].message,
            amount=amount,
            legal_entity=ctx.contract.legal_entity,
            findings=[f.model_dump(mode="json") for f in found[:500]],
            trigger={"flow": FLOW, "input": {"project_id": psa}},
        )
    store.resolve_stale(s, FLOW, f"tm:{psa}:", set(groups))
    return tuple(sorted(groups))


def _sum(amounts: list[Money]) -> Money | None:
    if not amounts:
        return None
    total = Money.zero(amounts[0].currency)
    for a in amounts:
        if a.currency == total.currency:
            total = total + a
    return total


def _unknown(s: Session, project_id: str, found: list[Any]) -> tuple[str, ...]:
    if not found:
        return ()
    repos.raise_exception(
        s,
        flow=FLOW,
        kind="business",
        correlation_id=correlation_id_for(project_id),
        source_system="kantata",
        source_record=f"tm:{project_id}:project.unknown",
        reason_code="project.unknown",
        reason=f"{len(found)} posted lines on PSA project {project_id}, which has no contract, "
        "ERP job or legal entity in the hub",
        amount=_sum([x.line.amount for x in found]),
        legal_entity=None,
        findings=[{"code": "project.unknown", "record": x.line.source_key} for x in found[:200]],
        trigger={"flow": FLOW, "input": {"project_id": project_id}},
    )
    return ("project.unknown",)
