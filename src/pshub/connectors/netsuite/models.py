"""NetSuite vendor records as the REST record service returns them (unknown keys ignored).

Amounts are `Decimal`: the connector parses JSON numbers exactly (:mod:`.wirejson`).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

_VENDOR = ConfigDict(extra="ignore", populate_by_name=True)


class NsRef(BaseModel):
    """A reference field: ``{"id": "1", "refName": "Acme US Inc."}``."""

    model_config = _VENDOR

    id: str
    ref_name: str | None = Field(None, alias="refName")


class NsCustomer(BaseModel):
    model_config = _VENDOR

    id: str
    company_name: str | None = Field(None, alias="companyName")
    entity_id: str | None = Field(None, alias="entityId")
    external_id: str | None = Field(None, alias="externalId")
    subsidiary: NsRef | None = None
    parent: NsRef | None = None
    currency: NsRef | None = None
    email: str | None = None
    is_person: bool = Field(False, alias="isPerson")


class NsJob(BaseModel):
    model_config = _VENDOR

    id: str
    company_name: str | None = Field(None, alias="companyName")
    entity_id: str | None = Field(None, alias="entityId")
    external_id: str | None = Field(None, alias="externalId")
    parent: NsRef | None = None
    subsidiary: NsRef | None = None
    currency: NsRef | None = None
    start_date: str | None = Field(None, alias="startDate")
    projected_end_date: str | None = Field(None, alias="projectedEndDate")
    pshub_project_id: str | None = Field(None, alias="custentity_pshub_project_id")


class NsErrorDetail(BaseModel):
    model_config = _VENDOR

    detail: str = ""
    code: str | None = Field(None, alias="o:errorCode")
    path: str | None = Field(None, alias="o:errorPath")
    query_param: str | None = Field(None, alias="o:errorQueryParam")


class NsErrorBody(BaseModel):
    """``{"type", "title", "status", "o:errorDetails": [...]}``."""

    model_config = _VENDOR

    title: str = ""
    status: int | None = None
    details: list[NsErrorDetail] = Field(default_factory=list, alias="o:errorDetails")


class NsPage(BaseModel):
    """One page of a record collection."""

    model_config = _VENDOR

    count: int = 0
    has_more: bool = Field(False, alias="hasMore")
    items: list[NsRef] = Field(default_factory=list)
    offset: int = 0
    total_results: int = Field(0, alias="totalResults")


class NsLine(BaseModel):
    """A line of an ``item`` or ``apply`` sublist."""

    model_config = _VENDOR

    item: NsRef | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    amount: Decimal | None = None
    tax_code: NsRef | None = Field(None, alias="taxCode")
    description: str | None = None
    doc: NsRef | None = None
    apply: bool | None = None


class NsSublist(BaseModel):
    model_config = _VENDOR

    items: list[NsLine] = Field(default_factory=list)


class NsStatus(BaseModel):
    model_config = _VENDOR

    id: str | None = None
    ref_name: str | None = Field(None, alias="refName")


class NsTransaction(BaseModel):
    """An invoice, credit memo or payment as ``GET ...?expandSubResources=true`` returns it."""

    model_config = _VENDOR

    id: str
    tran_id: str | None = Field(None, alias="tranId")
    external_id: str | None = Field(None, alias="externalId")
    tran_date: str | None = Field(None, alias="tranDate")
    entity: NsRef | None = None
    customer: NsRef | None = None
    currency: NsRef | None = None
    posting_period: NsRef | None = Field(None, alias="postingPeriod")
    status: NsStatus | None = None
    approval_status: NsStatus | None = Field(None, alias="approvalStatus")
    total: Decimal | None = None
    amount_remaining: Decimal | None = Field(None, alias="amountRemaining")
    payment: Decimal | None = None
    applied: Decimal | None = None
    last_modified: str = Field("", alias="lastModifiedDate")
    created_from: NsRef | None = Field(None, alias="createdFrom")
    item: NsSublist | None = None
    apply: NsSublist | None = None


class NsPeriod(BaseModel):
    model_config = _VENDOR

    id: str
    period_name: str = Field(alias="periodName")
    start_date: str = Field(alias="startDate")
    end_date: str = Field(alias="endDate")
    closed: bool = False
    is_quarter: bool = Field(False, alias="isQuarter")
    is_year: bool = Field(False, alias="isYear")


class NsTaskResult(BaseModel):
    """An async task's result: ``{"status": 204, "location"}`` or a NetSuite error body."""

    model_config = _VENDOR

    status: int | None = None
    location: str | None = None
    details: list[NsErrorDetail] = Field(default_factory=list, alias="o:errorDetails")


class NsTask(BaseModel):
    model_config = _VENDOR

    id: str
    completed: bool = False
    progress: str = "pending"
    result: NsTaskResult | None = None


class NsTaskPage(BaseModel):
    model_config = _VENDOR

    items: list[NsTask] = Field(default_factory=list)
