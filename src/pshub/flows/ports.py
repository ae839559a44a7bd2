"""The ports flows call: one Protocol per kind of target system, in canonical types only.

Connectors implement these structurally (no import of this module is needed), and raise
only :mod:`pshub.connectors.errors`. In-memory fakes for tests implement the same Protocols.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from pshub.domain.parties import Account, LegalEntity
from pshub.domain.projects import Project
from pshub.domain.sales import Opportunity


class ProvisioningWriteBack(BaseModel):
    """The ids written back onto the CRM opportunity once a deal is provisioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    canonical_contract_id: str
    psa_project_id: str
    erp_customer_id: str
    erp_job_id: str
    status: str = "Provisioned"


class PsaProjectRef(BaseModel):
    """What the PSA answered for an upserted project: its id and the ids of its stories."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    task_ids: dict[str, str] = {}  # canonical task id -> PSA story id
    milestone_ids: dict[str, str] = {}  # canonical milestone id -> PSA story id


class CrmPort(Protocol):
    """The CRM (Salesforce): source of accounts and opportunities."""

    system: str

    def get_opportunity(self, source_id: str) -> Opportunity:
        """The opportunity with its account, lines and custom fields, in canonical form."""
        ...

    def get_account(self, source_id: str) -> Account: ...

    def write_back_provisioning(
        self, opportunity_source_id: str, ids: ProvisioningWriteBack
    ) -> None:
        """Write PSA and ERP ids and the provisioning status onto the opportunity."""
        ...


class PsaPort(Protocol):
    """The PSA (Kantata OX): projects (workspaces) with tasks and milestones (stories)."""

    system: str

    def upsert_project(self, project: Project, customer_name: str) -> PsaProjectRef:
        """Create or update the project, its tasks and milestones, keyed by external id."""
        ...


class ErpPort(Protocol):
    """The ERP (NetSuite): customers under subsidiaries, and jobs (projects)."""

    system: str

    def upsert_customer(
        self, account: Account, entity: LegalEntity, parent_erp_id: str | None
    ) -> str:
        """Create or update the customer keyed by external id; returns the ERP internal id."""
        ...

    def upsert_job(self, project: Project, customer_erp_id: str, entity: LegalEntity) -> str:
        """Create or update the job (project) under the customer; returns its internal id."""
        ...
