"""Canonical <-> NetSuite: plain functions building request bodies and reading answers."""

from __future__ import annotations

from typing import Any

from pshub.connectors.netsuite.models import NsErrorBody
from pshub.domain.ids import external_id
from pshub.domain.parties import Account, LegalEntity
from pshub.domain.projects import Project

PROJECT_ID_FIELD = "custentity_pshub_project_id"  # custom entity field holding the canonical id
_EXTERNAL_PREFIX = external_id("")


def customer_body(
    account: Account, entity: LegalEntity, parent_erp_id: str | None, currency_id: str
) -> dict[str, Any]:
    """The customer record for an account, under the legal entity's subsidiary."""
    body: dict[str, Any] = {
        "companyName": account.name,
        "isPerson": False,
        "subsidiary": {"id": entity.erp_subsidiary_id},
        "currency": {"id": currency_id},
    }
    if parent_erp_id is not None:
        body["parent"] = {"id": parent_erp_id}
    return body


def job_body(
    project: Project, customer_erp_id: str, entity: LegalEntity, currency_id: str
) -> dict[str, Any]:
    """The job (project) record under its customer."""
    body: dict[str, Any] = {
        "companyName": project.name,
        "parent": {"id": customer_erp_id},
        "subsidiary": {"id": entity.erp_subsidiary_id},
        "currency": {"id": currency_id},
        PROJECT_ID_FIELD: project.id,
    }
    if project.start_date is not None:
        body["startDate"] = project.start_date.isoformat()
    if project.end_date is not None:
        body["projectedEndDate"] = project.end_date.isoformat()
    return body


def record_path(record_type: str, canonical: str) -> str:
    """``/customer/eid:PSHUB-acc_...``: the upsert address of a canonical record."""
    return f"/{record_type}/eid:{external_id(canonical)}"


def id_from_location(location: str | None) -> str | None:
    """The internal id at the end of a ``Location`` header, if it is one."""
    if not location:
        return None
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isdigit() else None


def canonical_from_external(value: str | None) -> str | None:
    """The canonical id behind an external id pshub wrote, else None."""
    if value and value.startswith(_EXTERNAL_PREFIX):
        return value[len(_EXTERNAL_PREFIX) :]
    return None


def error_fields(body: NsErrorBody) -> tuple[str, ...]:
    """The body paths (or query parameters) the error details point at, first seen first."""
    seen: dict[str, None] = {}
    for detail in body.details:
        where = detail.path or detail.query_param
        if where:
            seen.setdefault(where, None)
    return tuple(seen)
