"""Milestone invoicing and receivables: may a completed milestone be billed, what invoice
follows, and where its payment stands.

:func:`check_milestone` returns findings (never raises): customer acceptance when the policy
asks for it, earlier milestones invoiced first (by due date), no billing hold on the project,
a tax profile and currency the legal entity can bill in. Each finding carries the milestone's
amount: the money the rule holds back. :func:`plan_invoice` turns a milestone that passed
into the invoice the ERP gets: the milestone amount, the legal entity's tax and currency.
:func:`invoice_status` and :func:`deal_billing` derive "Open / Partially Paid / Paid" from the
ERP's total and amount remaining; :func:`aging_bucket` sorts receivables for forecasting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pshub.domain.contracts import Contract
from pshub.domain.findings import Finding
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.domain.parties import LegalEntity, TaxProfile
from pshub.domain.projects import Milestone, Project
from pshub.domain.tm_invoicing import TmInvoicingRules

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class InvoicingRules(BaseModel):
    """The invoicing policy (``invoicing.yaml``) as plain values."""

    model_config = _FROZEN

    acceptance_service_lines: frozenset[str] = frozenset()
    acceptance_contracts: frozenset[str] = frozenset()
    require_prior_invoiced: bool = True
    payment_terms_days: int = Field(30, ge=0)
    invoice_item_id: str = "3"
    pending_approval: bool = False
    tax_code_ids: dict[str, str] = {}
    tm: TmInvoicingRules = TmInvoicingRules()

    def needs_acceptance(self, contract: Contract) -> bool:
        return (
            contract.service_line in self.acceptance_service_lines
            or contract.id in self.acceptance_contracts
        )


class MilestoneFacts(BaseModel):
    """What the hub knows around one completed milestone when it decides."""

    model_config = _FROZEN

    milestone_id: str
    invoiced: frozenset[str] = frozenset()  # canonical ids of the project's invoiced milestones
    accepted: bool = False
    hold_reason: str | None = None


def milestone_order(project: Project) -> list[Milestone]:
    """Milestones in billing order: by due date, undated last, ties in contract order."""
    ranked = list(enumerate(project.milestones))
    ranked.sort(key=lambda p: (p[1].due_date is None, p[1].due_date or date.min, p[0]))
    return [m for _, m in ranked]


def find_milestone(project: Project, milestone_id: str) -> Milestone | None:
    return next((m for m in project.milestones if m.id == milestone_id), None)


def tax_profile(entity: LegalEntity, contract: Contract) -> TaxProfile | None:
    """The entity's profile behind the contract's tax code (chosen at deal time)."""
    return next((p for p in entity.tax_profiles if p.erp_tax_code == contract.tax_code), None)


def check_milestone(
    contract: Contract,
    project: Project,
    entity: LegalEntity,
    facts: MilestoneFacts,
    rules: InvoicingRules,
) -> list[Finding]:
    """Everything that stops this milestone from being invoiced now."""
    milestone = find_milestone(project, facts.milestone_id)
    if milestone is None:
        return [
            Finding(
                code="milestone.unknown",
                field="milestone.id",
                message=f"milestone {facts.milestone_id} is not part of project {project.id}",
                record=facts.milestone_id,
            )
        ]
    found: list[Finding] = []

    def add(code: str, field: str, message: str) -> None:
        found.append(
            Finding(
                code=code,
                field=field,
                message=message,
                record=milestone.id,
                amount=milestone.amount,
            )
        )

    if rules.needs_acceptance(contract) and not facts.accepted:
        add(
            "milestone.acceptance_required",
            "milestone.accepted",
            f"milestone {milestone.name!r} needs the customer's acceptance before it is invoiced",
        )
    if rules.require_prior_invoiced:
        for earlier in _earlier(project, milestone):
            if earlier.id not in facts.invoiced:
                due = f" (due {earlier.due_date})" if earlier.due_date else ""
                add(
                    "milestone.prior_not_invoiced",
                    "milestone.due_date",
                    f"milestone {earlier.name!r}{due} comes first and is not invoiced yet",
                )
                break
    if facts.hold_reason is not None:
        add("project.billing_hold", "project", f"project is on billing hold: {facts.hold_reason}")
    if tax_profile(entity, contract) is None:
        add(
            "tax.profile_missing",
            "contract.tax_code",
            f"legal entity {entity.code} has no tax profile with code {contract.tax_code!r}",
        )
    if milestone.amount.currency != contract.value.currency:
        add(
            "currency.mismatch",
            "milestone.amount",
            f"milestone is in {milestone.amount.currency}, contract in {contract.value.currency}",
        )
    elif not entity.accepts_currency(contract.value.currency):
        add(
            "currency.not_allowed",
            "contract.value",
            f"legal entity {entity.code} does not bill in {contract.value.currency}",
        )
    return found


def _earlier(project: Project, milestone: Milestone) -> list[Milestone]:
    order = milestone_order(project)
    return order[: order.index(milestone)]


class InvoicePlan(BaseModel):
    """The invoice for one milestone, in canonical terms (the flow maps it to the ERP)."""

    model_config = _FROZEN

    invoice_id: str
    milestone_id: str
    milestone_name: str
    project_id: str
    contract_id: str
    legal_entity: str
    subsidiary_id: str
    currency: str
    net: Money
    tax: Money
    gross: Money
    tax_code: str
    tax_rate: Decimal
    tran_date: date
    due_date: date
    item_id: str
    tax_code_id: str | None = None
    pending_approval: bool = False

    @property
    def description(self) -> str:
        return f"Milestone: {self.milestone_name}"


def invoice_id_for(milestone_id: str) -> str:
    """One invoice per milestone: a replayed or redelivered completion finds the same one."""
    return canonical_id("invoice", "milestone", milestone_id)


def plan_invoice(
    contract: Contract,
    project: Project,
    entity: LegalEntity,
    milestone_id: str,
    tran_date: date,
    rules: InvoicingRules,
) -> InvoicePlan:
    """The invoice for a milestone that :func:`check_milestone` passed."""
    milestone = find_milestone(project, milestone_id)
    profile = tax_profile(entity, contract)
    if milestone is None or profile is None:
        raise ValueError(f"milestone {milestone_id} cannot be invoiced: check it first")
    net = milestone.amount.rounded()
    tax = (net * profile.rate).rounded()
    return InvoicePlan(
        invoice_id=invoice_id_for(milestone.id),
        milestone_id=milestone.id,
        milestone_name=milestone.name,
        project_id=project.id,
        contract_id=contract.id,
        legal_entity=entity.code,
        subsidiary_id=entity.erp_subsidiary_id,
        currency=net.currency,
        net=net,
        tax=tax,
        gross=net + tax,
        tax_code=contract.tax_code,
        tax_rate=profile.rate,
        tran_date=tran_date,
        due_date=tran_date + timedelta(days=rules.payment_terms_days),
        item_id=rules.invoice_item_id,
        tax_code_id=rules.tax_code_ids.get(contract.tax_code),
        pending_approval=rules.pending_approval,
    )


# --- payment status ----------------------------------------------------------------------------


class InvoiceStatus(StrEnum):
    PENDING_APPROVAL = "Pending Approval"
    OPEN = "Open"
    PARTIALLY_PAID = "Partially Paid"
    PAID = "Paid"
    CREDITED = "Credited"
    REJECTED = "Rejected"


def invoice_status(
    erp_status: str, total: Money, remaining: Money, credited: Money | None = None
) -> InvoiceStatus:
    """The hub's status of an invoice from the ERP's status, total, amount remaining and the
    credit notes applied to it (``credited``).

    ERPs such as NetSuite keep an invoice "Open" until it is settled and then call it "Paid
    In Full" whether cash or a credit memo settled it; the hub tells a part-paid invoice
    apart, and one settled by credit alone ("Credited") from one the customer paid — what
    account managers and forecasters ask about.
    """
    if erp_status in (InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.REJECTED):
        return InvoiceStatus(erp_status)
    credit = credited.amount if credited is not None else 0
    paid = total.amount - remaining.amount - credit
    if remaining.amount <= 0:
        return InvoiceStatus.PAID if paid > 0 else InvoiceStatus.CREDITED
    if paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


class DealBilling(BaseModel):
    """Billing of a whole deal, as the CRM shows it on the opportunity."""

    model_config = _FROZEN

    invoiced: Money
    paid: Money
    status: str  # Not Invoiced | Invoiced | Partially Paid | Paid


def deal_billing(invoices: Iterable[tuple[Money, Money]], currency: str) -> DealBilling:
    """Totals over ``(total, amount remaining)`` of a deal's invoices, and the deal's status."""
    invoiced = paid = Money.zero(currency)
    count = 0
    for total, remaining in invoices:
        invoiced, paid, count = invoiced + total, paid + (total - remaining), count + 1
    if count == 0:
        status = "Not Invoiced"
    elif paid.is_zero():
        status = "Invoiced"
    elif paid < invoiced:
        status = "Partially Paid"
    else:
        status = "Paid"
    return DealBilling(invoiced=invoiced, paid=paid, status=status)


# --- receivables -------------------------------------------------------------------------------

BUCKETS: Sequence[tuple[int, str]] = ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"))


class Receivable(BaseModel):
    """An invoice with money still to come: what the forecast reads."""

    model_config = _FROZEN

    invoice_id: str
    invoice_number: str
    project_id: str
    legal_entity: str
    status: InvoiceStatus
    total: Money
    remaining: Money
    invoice_date: date
    due_date: date
    bucket: str


def aging_bucket(due: date, as_of: date) -> str:
    """``current`` until the due date, then 1-30 / 31-60 / 61-90 / 90+ days overdue."""
    late = (as_of - due).days
    for limit, name in BUCKETS:
        if late <= limit:
            return name
    return "90+"
