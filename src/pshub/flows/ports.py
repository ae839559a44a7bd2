"""The ports flows call: one Protocol per kind of target system, in canonical types only.

Connectors implement these structurally (no import of this module is needed), and raise
only :mod:`pshub.connectors.errors`. In-memory fakes for tests implement the same Protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from pshub.domain.money import Money
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


@dataclass(frozen=True, slots=True)
class ErpBillingLine:
    """One billable (or cost-only) transaction line for the ERP, keyed by its external id.

    ``action`` "reverse" cancels the posting named by ``reverses`` (an edit or un-approval
    after posting); the ERP connector chooses the vendor's practice for it. A slotted
    dataclass rather than a pydantic model: month-end builds and reads hundreds of thousands
    of them, and every field comes from the hub's own priced lines or its own stored JSON.
    """

    key: str
    external_id: str
    action: str  # post | reverse
    kind: str  # time | expense
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
    reverses: str | None = None  # key of the posting a reversal cancels

    def to_json(self) -> dict[str, Any]:
        """The line as JSON (decimals and dates as strings): the fields the line store keeps
        in columns, and :meth:`stored_json`."""
        return {
            "key": self.key,
            "external_id": self.external_id,
            "action": self.action,
            "posting_date": self.posting_date.isoformat(),
            "period": self.period,
            "amount": str(self.amount),
            "currency": self.currency,
        } | self.stored_json()

    def stored_json(self) -> dict[str, Any]:
        """The line as the line store keeps it beside its columns: key, action, period,
        posting date, amount and currency are columns of ``billing_lines``, and the external
        id follows from the key, so the stored body leaves them out (a month-end run writes
        one per line). ``store.billing`` puts the line back together."""
        return {
            "kind": self.kind,
            "reverses": self.reverses,
            "customer_id": self.customer_id,
            "job_id": self.job_id,
            "subsidiary_id": self.subsidiary_id,
            "employee": self.employee,
            "work_date": self.work_date.isoformat(),
            "hours": _text(self.hours),
            "rate": _text(self.rate),
            "cost": _text(self.cost),
            "billable": self.billable,
            "tax_code": self.tax_code,
            "memo": self.memo,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ErpBillingLine:
        """The inverse of :meth:`to_json` (exact decimals, ISO dates)."""
        return cls(
            key=data["key"],
            external_id=data["external_id"],
            action=data["action"],
            kind=data["kind"],
            customer_id=data["customer_id"],
            job_id=data["job_id"],
            subsidiary_id=data["subsidiary_id"],
            employee=data["employee"],
            work_date=_day(data["work_date"]),
            posting_date=_day(data["posting_date"]),
            period=data["period"],
            hours=_number(data["hours"]),
            rate=_number(data["rate"]),
            amount=Decimal(data["amount"]),
            cost=_number(data["cost"]),
            currency=data["currency"],
            billable=bool(data["billable"]),
            tax_code=data["tax_code"],
            memo=data["memo"],
            reverses=data.get("reverses"),
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


_day = date.fromisoformat


@dataclass(frozen=True, slots=True)
class ErpPostResult:
    """The ERP's answer for one line: its record id, or why it was refused."""

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


# --- journals (the month-end close) ------------------------------------------------------------

_JOURNAL = ConfigDict(frozen=True, extra="forbid")


class ErpJournalLine(BaseModel):
    """One side of a journal: exactly one of ``debit`` and ``credit`` is set."""

    model_config = _JOURNAL

    account_id: str
    debit: Money | None = None
    credit: Money | None = None
    memo: str | None = None
    entity_id: str | None = None


class ErpJournalDraft(BaseModel):
    """A balanced journal entry to upsert in the ERP, keyed by its canonical id."""

    model_config = _JOURNAL

    canonical_id: str
    subsidiary_id: str
    currency: str
    tran_date: date
    lines: tuple[ErpJournalLine, ...]
    memo: str | None = None
    posting_period_id: str | None = None
    pending_approval: bool = False


class ErpJournalPort(Protocol):
    def post_journal(self, draft: ErpJournalDraft) -> str:
        """Create or update the journal keyed by the draft's canonical id; its ERP id."""
        ...
