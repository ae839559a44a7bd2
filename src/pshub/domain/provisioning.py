"""Deal-to-project rules: may a won deal be provisioned, and what contract and project follow.

``validate_deal`` returns findings (never raises); ``plan_provisioning`` turns a valid deal into
the canonical contract and project that the flow then writes to the PSA and the ERP.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from pshub.domain.contracts import Contract, ContractLine
from pshub.domain.findings import Finding
from pshub.domain.ids import canonical_id
from pshub.domain.money import allocate
from pshub.domain.parties import Account, LegalEntity, TaxProfile, check_hierarchy
from pshub.domain.projects import Milestone, Project, ProjectTemplate, Task
from pshub.domain.rates import RateCard
from pshub.domain.sales import BillingModel, Opportunity

_Add = Callable[[str, str, str], None]
"""``add(code, field, message)``: record a finding against the deal."""


class ServiceLine(BaseModel):
    """A practice the firm sells; it names the project template new projects start from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    template: str
    billing_models: tuple[BillingModel, ...] = tuple(BillingModel)


class ProvisioningRules(BaseModel):
    """The policy tables deal validation needs, as plain values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legal_entities: dict[str, LegalEntity]
    service_lines: dict[str, ServiceLine]
    templates: dict[str, ProjectTemplate]
    rate_cards: dict[str, RateCard]


class ProvisioningPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: LegalEntity
    tax: TaxProfile
    contract: Contract
    project: Project


def validate_deal(
    opp: Opportunity, rules: ProvisioningRules, accounts: dict[str, Account]
) -> list[Finding]:
    """Everything that stops a won deal from becoming a customer, project and job."""
    held = opp.amount
    found: list[Finding] = []

    def add(code: str, field: str, message: str) -> None:
        found.append(
            Finding(code=code, field=field, message=message, record=opp.source_id, amount=held)
        )

    if not opp.is_closed_won:
        add("deal.not_won", "opportunity.stage", f"stage is {opp.stage!r}, not 'Closed Won'")
    if opp.amount.amount <= 0:
        add(
            "deal.amount_not_positive",
            "opportunity.amount",
            f"amount {opp.amount} must be positive",
        )
    found.extend(
        f.model_copy(update={"amount": held}) for f in check_hierarchy(opp.account, accounts)
    )
    entity = _check_entity(opp, rules, add)
    _check_service_line(opp, rules, add)
    if entity is not None and not opp.account.billing_country:
        add(
            "tax.customer_country_missing",
            "account.billing_country",
            f"account {opp.account.name} has no billing country to choose a tax profile",
        )
    elif entity is not None and entity.tax_profile_for(opp.account.billing_country or "") is None:
        add(
            "tax.profile_missing",
            "account.billing_country",
            f"legal entity {entity.code} has no tax profile for customers in "
            f"{opp.account.billing_country}",
        )
    _check_lines(opp, rules, add)
    return found


def _check_entity(opp: Opportunity, rules: ProvisioningRules, add: _Add) -> LegalEntity | None:
    if not opp.legal_entity:
        add("entity.missing", "opportunity.legal_entity", "no legal entity on the deal")
        return None
    entity = rules.legal_entities.get(opp.legal_entity)
    if entity is None:
        add(
            "entity.unmapped",
            "opportunity.legal_entity",
            f"legal entity {opp.legal_entity!r} has no mapping to an ERP subsidiary",
        )
        return None
    if not entity.accepts_currency(opp.currency):
        add(
            "currency.not_allowed",
            "opportunity.currency",
            f"legal entity {entity.code} does not bill in {opp.currency}",
        )
    return entity


def _check_service_line(opp: Opportunity, rules: ProvisioningRules, add: _Add) -> None:
    line = rules.service_lines.get(opp.service_line or "")
    if line is None:
        add(
            "service_line.unknown",
            "opportunity.service_line",
            f"service line {opp.service_line!r} is not mapped to a project template",
        )
        return
    if line.template not in rules.templates:
        add(
            "service_line.template_missing",
            "opportunity.service_line",
            f"service line {line.code} names template {line.template!r}, which does not exist",
        )
    if opp.billing_model is None:
        add("billing_model.missing", "opportunity.billing_model", "no billing model on the deal")
    elif opp.billing_model not in line.billing_models:
        add(
            "billing_model.not_offered",
            "opportunity.billing_model",
            f"service line {line.code} is not sold as {opp.billing_model.value}",
        )


def _check_lines(opp: Opportunity, rules: ProvisioningRules, add: _Add) -> None:
    if opp.billing_model is BillingModel.FIXED_FEE_MILESTONE:
        if not opp.lines:
            add("lines.missing", "opportunity.lines", "a milestone deal needs at least one line")
        elif opp.lines_total() != opp.amount:
            add(
                "lines.total_mismatch",
                "opportunity.lines",
                f"lines sum to {opp.lines_total()}, deal amount is {opp.amount}",
            )
    if opp.billing_model is BillingModel.TIME_AND_MATERIALS:
        card = rules.rate_cards.get(opp.rate_card or "")
        if card is None:
            add(
                "rate_card.unknown",
                "opportunity.rate_card",
                f"rate card {opp.rate_card!r} is not defined",
            )
        elif card.currency != opp.currency:
            add(
                "rate_card.currency_mismatch",
                "opportunity.rate_card",
                f"rate card {card.code} is in {card.currency}, deal is in {opp.currency}",
            )


def plan_provisioning(
    opp: Opportunity, rules: ProvisioningRules, accounts: dict[str, Account]
) -> ProvisioningPlan:
    """The contract and project for a deal that ``validate_deal`` passed."""
    problems = validate_deal(opp, rules, accounts)
    if problems:
        raise ValueError(f"deal {opp.source_id} is not valid: {problems[0].message}")
    assert opp.legal_entity and opp.service_line and opp.billing_model
    entity = rules.legal_entities[opp.legal_entity]
    tax = entity.tax_profile_for(opp.account.billing_country or "")
    assert tax is not None
    line = rules.service_lines[opp.service_line]
    template = rules.templates[line.template]
    contract_id = canonical_id("contract", opp.source_system, opp.source_id)
    lines = _contract_lines(opp, contract_id)
    contract = Contract(
        id=contract_id,
        opportunity_id=opp.id,
        account_id=opp.account.id,
        legal_entity=entity.code,
        service_line=line.code,
        billing_model=opp.billing_model,
        value=opp.amount,
        rate_card=opp.rate_card,
        tax_code=tax.erp_tax_code,
        start_date=opp.start_date,
        end_date=opp.end_date,
        lines=lines,
    )
    project_id = canonical_id("project", opp.source_system, opp.source_id)
    tasks = tuple(
        Task(id=canonical_id("task", project_id, name), name=name) for name in template.tasks
    )
    milestones = (
        tuple(
            Milestone(
                id=canonical_id("milestone", project_id, cl.id),
                name=cl.name,
                amount=cl.amount,
                due_date=cl.service_date,
                source_line_id=cl.id,
            )
            for cl in lines
        )
        if opp.billing_model is BillingModel.FIXED_FEE_MILESTONE
        else ()
    )
    project = Project(
        id=project_id,
        contract_id=contract_id,
        name=f"{opp.account.name} — {opp.name}",
        template=template.code,
        legal_entity=entity.code,
        currency=opp.currency,
        budget=opp.amount,
        start_date=opp.start_date,
        end_date=opp.end_date,
        tasks=tasks,
        milestones=milestones,
    )
    return ProvisioningPlan(entity=entity, tax=tax, contract=contract, project=project)


def _contract_lines(opp: Opportunity, contract_id: str) -> tuple[ContractLine, ...]:
    if opp.lines:
        return tuple(
            ContractLine(
                id=line.source_id, name=line.name, amount=line.total, service_date=line.service_date
            )
            for line in opp.lines
        )
    (whole,) = allocate(opp.amount, [1])
    return (ContractLine(id=f"{contract_id}-1", name=opp.name, amount=whole),)
