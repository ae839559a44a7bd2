"""NetSuite mapping: canonical records -> request bodies, and answers -> ids and fields."""

from __future__ import annotations

from datetime import date

from pshub.connectors.netsuite.mapping import (
    PROJECT_ID_FIELD,
    canonical_from_external,
    customer_body,
    error_fields,
    id_from_location,
    job_body,
    record_path,
)
from pshub.connectors.netsuite.models import NsCustomer, NsErrorBody
from pshub.domain.money import money
from pshub.domain.parties import Account, LegalEntity
from pshub.domain.projects import Project

ENTITY = LegalEntity(
    code="ACME-UK", name="Acme UK Ltd.", country="GB", currency="GBP", erp_subsidiary_id="2"
)
ACCOUNT = Account(id="acc_0123456789abcdef0123", source_id="001A", name="Initech Ltd")
PROJECT = Project(
    id="prj_00112233445566778899",
    contract_id="ctr_1",
    name="Initech rollout",
    template="consulting",
    legal_entity="ACME-UK",
    currency="GBP",
    budget=money("5000.00", "GBP"),
    start_date=date(2025, 2, 3),
)


def test_a_customer_body_names_company_subsidiary_and_currency() -> None:
    body = customer_body(ACCOUNT, ENTITY, None, currency_id="2")

    assert body == {
        "companyName": "Initech Ltd",
        "isPerson": False,
        "subsidiary": {"id": "2"},
        "currency": {"id": "2"},
    }


def test_a_customer_body_carries_the_parent_when_there_is_one() -> None:
    assert customer_body(ACCOUNT, ENTITY, "107", currency_id="2")["parent"] == {"id": "107"}


def test_a_job_body_links_the_customer_and_keeps_the_canonical_project_id() -> None:
    body = job_body(PROJECT, "107", ENTITY, currency_id="2")

    assert body["parent"] == {"id": "107"}
    assert body["subsidiary"] == {"id": "2"}
    assert body[PROJECT_ID_FIELD] == PROJECT.id
    assert body["startDate"] == "2025-02-03"
    assert "projectedEndDate" not in body


def test_the_upsert_path_uses_the_external_id_of_the_canonical_record() -> None:
    assert record_path("customer", ACCOUNT.id) == f"/customer/eid:PSHUB-{ACCOUNT.id}"
    assert canonical_from_external(f"PSHUB-{ACCOUNT.id}") == ACCOUNT.id
    assert canonical_from_external("SF-001A") is None


def test_the_internal_id_is_read_from_the_location_header() -> None:
    location = "https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/customer/647"

    assert id_from_location(location) == "647"
    assert id_from_location("https://host/services/rest/record/v1/customer/eid:X") is None
    assert id_from_location(None) is None


def test_error_fields_are_the_error_paths_in_order_without_repeats() -> None:
    body = NsErrorBody.model_validate(
        {
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
            "title": "Bad Request",
            "status": 400,
            "o:errorDetails": [
                {"detail": "a", "o:errorCode": "USER_ERROR", "o:errorPath": "parent"},
                {"detail": "b", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "email"},
                {"detail": "c", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "parent"},
                {"detail": "d", "o:errorCode": "INVALID_PARAMETER", "o:errorQueryParam": "q"},
            ],
        }
    )

    assert error_fields(body) == ("parent", "email", "q")


def test_vendor_records_ignore_fields_they_do_not_know() -> None:
    customer = NsCustomer.model_validate(
        {
            "id": "647",
            "companyName": "Initech Ltd",
            "subsidiary": {"id": "2", "refName": "UK"},
            "links": [],
            "balance": 12.5,
            "custentity_segment": "enterprise",
        }
    )

    assert customer.subsidiary is not None and customer.subsidiary.ref_name == "UK"
