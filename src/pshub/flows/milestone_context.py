"""What the hub knows around a completed milestone, read in one session for the rules.

Used by the ``milestone_billing`` workflow (in a step) and by ``milestone_intake`` when it
re-checks blocked milestones on every feed poll.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from pshub.bootstrap import Container
from pshub.domain.contracts import Contract
from pshub.domain.findings import Finding
from pshub.domain.invoicing import (
    InvoicePlan,
    InvoicingRules,
    MilestoneFacts,
    check_milestone,
    find_milestone,
    plan_invoice,
)
from pshub.domain.money import Money
from pshub.domain.parties import LegalEntity
from pshub.domain.projects import Project
from pshub.policy.invoicing import load_invoicing, policy_file
from pshub.store import billing as billing_repo
from pshub.store import invoicing as store
from pshub.store import repos


class MilestoneContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    contract: Contract
    project: Project
    entity: LegalEntity
    facts: MilestoneFacts
    rules: InvoicingRules
    psa_project_id: str
    psa_story_id: str
    completed_on: date
    job_id: str | None = None
    opportunity_id: str | None = None

    def findings(self) -> list[Finding]:
        found = check_milestone(self.contract, self.project, self.entity, self.facts, self.rules)
        if self.job_id is None:
            found.append(self._missing("erp.job_missing", "project", "no ERP job for the project"))
        return found

    def _missing(self, code: str, field: str, message: str) -> Finding:
        ms = find_milestone(self.project, self.facts.milestone_id)
        amount: Money | None = ms.amount if ms else None
        return Finding(
            code=code, field=field, message=message, record=self.facts.milestone_id, amount=amount
        )

    def plan(self) -> InvoicePlan:
        return plan_invoice(
            self.contract,
            self.project,
            self.entity,
            self.facts.milestone_id,
            self.completed_on,
            self.rules,
        )


def invoicing_rules(c: Container) -> InvoicingRules:
    """The invoicing policy as the file stands now (re-read when it changes)."""
    path = policy_file(c.settings.resolved_policy_dir())
    stamp = (str(path), path.stat().st_mtime_ns, path.stat().st_size)
    cached = c.extras.get("_invoicing_rules")
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_invoicing(path.parent))
        c.extras["_invoicing_rules"] = cached
    rules: InvoicingRules = cached[1]
    return rules


def context_for(c: Container, s: Any, milestone_id: str) -> MilestoneContext | None:
    """Everything the rules need, read in one session; None if the milestone is not ours."""
    row = store.milestone_row(s, milestone_id)
    project_body = repos.get_record(s, "project", row.project_id) if row else None
    if row is None or row.completed_at is None or project_body is None:
        return None
    project = Project.model_validate(project_body)
    contract_body = repos.get_record(s, "contract", project.contract_id)
    if contract_body is None:
        return None
    contract = Contract.model_validate(contract_body)
    entity = c.policy().rules.legal_entities.get(contract.legal_entity)
    if entity is None:
        return None
    hold = billing_repo.active_hold(s, "project", row.psa_project_id)
    return MilestoneContext(
        contract=contract,
        project=project,
        entity=entity,
        facts=MilestoneFacts(
            milestone_id=milestone_id,
            invoiced=store.invoiced_milestones(s, project.id),
            accepted=row.accepted_at is not None,
            hold_reason=hold.reason if hold else None,
        ),
        rules=invoicing_rules(c),
        psa_project_id=row.psa_project_id,
        psa_story_id=row.psa_story_id,
        completed_on=row.completed_at.date(),
        job_id=repos.system_ids(s, "project", project.id).get("netsuite"),
        opportunity_id=repos.system_ids(s, "opportunity", contract.opportunity_id).get(
            "salesforce"
        ),
    )
