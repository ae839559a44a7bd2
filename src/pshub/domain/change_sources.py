"""Change orders from their sources: an approved CRM opportunity change (amount, lines,
dates) or a PSA plan change (budget, milestone amounts), stated against the current terms."""

from __future__ import annotations

from datetime import date

from pshub.domain.amendments import ChangeOrder, ContractTerms
from pshub.domain.contracts import ContractLine
from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.domain.projects import Milestone, Project
from pshub.domain.sales import BillingModel, Opportunity


def change_from_opportunity(
    current: ContractTerms, project_id: str, opp: Opportunity, change_id: str, effective: date
) -> ChangeOrder:
    """A CRM change order: the opportunity's amount, lines and dates as now approved. For a
    milestone contract the lines are the milestones, so the PSA plan follows the lines."""
    c = current.contract
    lines = (
        tuple(
            ContractLine(
                id=line.source_id, name=line.name, amount=line.total, service_date=line.service_date
            )
            for line in opp.lines
        )
        or c.lines
    )
    milestones = None
    if c.billing_model is BillingModel.FIXED_FEE_MILESTONE:
        milestones = tuple(milestone_for(project_id, line) for line in lines)
    return ChangeOrder(
        contract_id=c.id,
        source_system=opp.source_system,
        source_id=change_id,
        effective_date=effective,
        value=opp.amount,
        lines=lines,
        start_date=opp.start_date,
        end_date=opp.end_date,
        budget=opp.amount,
        milestones=milestones,
    )


def milestone_for(project_id: str, line: ContractLine) -> Milestone:
    """The milestone that bills a contract line (the id provisioning gave it)."""
    return Milestone(
        id=canonical_id("milestone", project_id, line.id),
        name=line.name,
        amount=line.amount,
        due_date=line.service_date,
        source_line_id=line.id,
    )


def project_for(terms: ContractTerms, project: Project) -> Project:
    """The project as version ``terms`` plans it (budget, end date, milestones)."""
    return project.model_copy(
        update={
            "budget": terms.budget,
            "end_date": terms.contract.end_date,
            "start_date": terms.contract.start_date,
            "milestones": terms.milestones,
        }
    )


def change_from_psa(
    current: ContractTerms,
    change_id: str,
    effective: date,
    *,
    budget: Money | None = None,
    milestone_amounts: dict[str, Money] | None = None,
) -> ChangeOrder:
    """A PSA change order: a new project budget and/or new milestone amounts (by canonical id)."""
    milestones = None
    if milestone_amounts:
        milestones = tuple(
            m.model_copy(update={"amount": milestone_amounts.get(m.id, m.amount)})
            for m in current.milestones
        )
    return ChangeOrder(
        contract_id=current.contract.id,
        source_system="kantata",
        source_id=change_id,
        effective_date=effective,
        budget=budget,
        milestones=milestones,
    )
