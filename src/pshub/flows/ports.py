"""The ports flows call: one Protocol per kind of target system, in canonical types only.

Connectors implement these structurally (no import of this module is needed), and raise
only :mod:`pshub.connectors.errors`. In-memory fakes for tests implement the same Protocols.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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


class ErpBillingLine(BaseModel):
    """One billable (or cost-only) transaction line for the ERP, keyed by its external id.

    ``action`` "reverse" cancels the posting named by ``reverses`` (an edit or un-approval
    after posting); the ERP connector chooses the vendor's practice for it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    external_id: str
    action: str  # post | reverse
    kind: str  # time | expense
    reverses: str | None = None  # key of the posting a reversal cancels
    customer_id: str
    job_id: str
    subsidiary_id: str
    employee: str | None
    work_date: date
    posting_date: date
    period: str
    hours: Decimal | None
    rate: Decimal | None
    amount: Decimal
    cost: Decimal | None
    currency: str
    billable: bool
    tax_code: str
    memo: str


class ErpPostResult(BaseModel):
    """The ERP's answer for one line: its record id, or why it was refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    ok: bool
    erp_id: str | None = None
    error: str | None = None
    fields: tuple[str, ...] = ()


class ErpBillingPort(Protocol):
    """The ERP side of time-to-bill: billable time and expense transactions, in batches."""

    system: str

    def post_billing_lines(self, lines: list[ErpBillingLine]) -> list[ErpPostResult]:
        """Upsert a batch by external id; one result per line, a bad line refuses only itself."""
        ...
