"""NetSuite vendor records as the REST record service returns them (unknown keys ignored)."""

from __future__ import annotations

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
