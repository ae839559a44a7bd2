"""The record service: create, read, upsert by external id, hierarchy, jobs, errors, paging."""

from __future__ import annotations

import pytest
from netsuite_helpers import UK, US, Sandbox, account, project

from pshub.connectors.errors import NotFoundError, RejectedError
from pshub.connectors.netsuite import NetSuiteConnector
from pshub.domain.ids import external_id
from pshub.domain.parties import LegalEntity


def error_detail(response_json: dict[str, object]) -> dict[str, str]:
    details = response_json["o:errorDetails"]
    assert isinstance(details, list)
    return dict(details[0])


def test_creating_a_customer_answers_204_with_a_location_header(netsuite: Sandbox) -> None:
    response = netsuite.send(
        "POST", "/customer", json={"companyName": "Initech", "subsidiary": {"id": "1"}}
    )

    assert response.status_code == 204
    assert response.content == b""
    location = response.headers["Location"]
    assert location.startswith(netsuite.url + "/services/rest/record/v1/customer/")
    assert netsuite.send("GET", location.split("/v1", 1)[1]).status_code == 200


def test_reading_a_customer_returns_links_and_reference_objects(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    internal_id = erp.upsert_customer(account("Initech"), US, None)

    body = netsuite.send("GET", f"/customer/{internal_id}").json()

    assert body["links"] == [
        {"rel": "self", "href": f"{netsuite.url}/services/rest/record/v1/customer/{internal_id}"}
    ]
    assert body["subsidiary"]["id"] == "1"
    assert body["subsidiary"]["refName"] == "Acme US Inc."
    assert body["subsidiary"]["links"][0]["href"].endswith("/subsidiary/1")
    assert body["currency"] == {
        "id": "1",
        "refName": "US Dollar",
        "links": [{"rel": "self", "href": f"{netsuite.url}/services/rest/record/v1/currency/1"}],
    }
    assert body["externalId"] == external_id(account("Initech").id)
    assert body["isPerson"] is False


def test_a_record_can_be_read_by_its_external_id(netsuite: Sandbox, erp: NetSuiteConnector) -> None:
    internal_id = erp.upsert_customer(account("Initech"), US, None)

    body = netsuite.send("GET", f"/customer/eid:{external_id(account('Initech').id)}").json()

    assert body["id"] == internal_id


def test_upserting_by_external_id_twice_keeps_one_record_and_updates_it(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    first = erp.upsert_customer(account("Initech"), US, None)
    renamed = account("Initech").model_copy(update={"name": "Initech Corporation"})

    second = erp.upsert_customer(renamed, US, None)

    assert second == first
    customers = netsuite.admin("GET", "/records/customer")
    assert [c["companyName"] for c in customers] == ["Initech Corporation"]


def test_a_raw_upsert_answers_204_with_location_both_times(netsuite: Sandbox) -> None:
    body = {"companyName": "Hooli", "subsidiary": {"id": "1"}}

    created = netsuite.send("PUT", "/customer/eid:HOOLI-1", json=body)
    updated = netsuite.send("PUT", "/customer/eid:HOOLI-1", json={"email": "ap@hooli.example"})

    assert created.status_code == updated.status_code == 204
    assert created.headers["Location"] == updated.headers["Location"]
    record = netsuite.send("GET", "/customer/eid:HOOLI-1").json()
    assert (record["companyName"], record["email"]) == ("Hooli", "ap@hooli.example")


def test_an_upsert_may_not_carry_an_internal_id(netsuite: Sandbox) -> None:
    response = netsuite.send(
        "PUT",
        "/customer/eid:HOOLI-1",
        json={"id": "5", "companyName": "Hooli", "subsidiary": {"id": "1"}},
    )

    assert response.status_code == 400
    assert error_detail(response.json())["o:errorPath"] == "id"


def test_a_sub_customer_under_the_same_subsidiary_is_accepted(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    parent_id = erp.upsert_customer(account("Globex"), US, None)

    child_id = erp.upsert_customer(account("Globex Labs", parent="Globex"), US, parent_id)

    child = erp.get_customer(child_id)
    assert child.parent is not None
    assert (child.parent.id, child.parent.ref_name) == (parent_id, "Globex")


def test_a_parent_in_another_subsidiary_is_rejected_naming_parent(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    parent_id = erp.upsert_customer(account("Globex"), US, None)

    with pytest.raises(RejectedError) as caught:
        erp.upsert_customer(account("Globex UK", parent="Globex"), UK, parent_id)

    assert caught.value.status == 400
    assert caught.value.code == "USER_ERROR"
    assert caught.value.fields == ("parent",)
    assert netsuite.admin("GET", "/stats")["records"]["customer"] == 1


def test_the_vendor_error_shape_names_the_parent_field(netsuite: Sandbox) -> None:
    netsuite.send("POST", "/customer", json={"companyName": "Globex", "subsidiary": {"id": "1"}})

    response = netsuite.send(
        "POST",
        "/customer",
        json={"companyName": "Globex UK", "subsidiary": {"id": "2"}, "parent": {"id": "101"}},
    )

    body = response.json()
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/vnd.oracle.resource+json")
    assert body["type"] == "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"
    assert (body["title"], body["status"]) == ("Bad Request", 400)
    assert error_detail(body)["o:errorPath"] == "parent"
    assert error_detail(body)["o:errorCode"] == "USER_ERROR"


def test_a_customer_cannot_become_its_own_ancestor(netsuite: Sandbox) -> None:
    netsuite.send("POST", "/customer", json={"companyName": "A", "subsidiary": {"id": "1"}})
    netsuite.send(
        "POST",
        "/customer",
        json={"companyName": "B", "subsidiary": {"id": "1"}, "parent": {"id": "101"}},
    )

    response = netsuite.send("PATCH", "/customer/101", json={"parent": {"id": "102"}})

    assert response.status_code == 400
    assert error_detail(response.json())["o:errorPath"] == "parent"


def test_a_job_is_linked_to_its_customer(netsuite: Sandbox, erp: NetSuiteConnector) -> None:
    customer_id = erp.upsert_customer(account("Initech"), US, None)
    delivery = project("Initech ERP rollout", currency="EUR")

    job_id = erp.upsert_job(delivery, customer_id, US)

    job = erp.get_job(job_id)
    assert job.parent is not None and job.parent.id == customer_id
    assert job.subsidiary is not None and job.subsidiary.id == "1"
    assert job.currency is not None and job.currency.ref_name == "Euro"
    assert job.pshub_project_id == delivery.id
    assert (job.start_date, job.projected_end_date) == ("2025-01-06", "2025-06-30")
    assert job.external_id == external_id(delivery.id)
    assert erp.upsert_job(delivery, customer_id, US) == job_id


def test_a_job_under_an_unknown_customer_is_rejected_naming_parent(erp: NetSuiteConnector) -> None:
    with pytest.raises(RejectedError) as caught:
        erp.upsert_job(project("Orphan"), "9999", US)

    assert caught.value.fields == ("parent",)
    assert caught.value.code == "INVALID_CONTENT"


def test_a_job_in_another_subsidiary_than_its_customer_is_rejected(erp: NetSuiteConnector) -> None:
    customer_id = erp.upsert_customer(account("Initech"), US, None)

    with pytest.raises(RejectedError) as caught:
        erp.upsert_job(project("Initech UK work"), customer_id, UK)

    assert caught.value.fields == ("subsidiary",)


def test_a_missing_required_field_is_named_in_the_error(netsuite: Sandbox) -> None:
    response = netsuite.send("POST", "/customer", json={"subsidiary": {"id": "1"}})

    assert response.status_code == 400
    detail = error_detail(response.json())
    assert detail["o:errorCode"] == "USER_ERROR"
    assert detail["o:errorPath"] == "companyName"
    assert detail["detail"] == "Please enter value(s) for: Company Name"


def test_an_unknown_subsidiary_is_rejected_naming_subsidiary(erp: NetSuiteConnector) -> None:
    nowhere = LegalEntity(code="X", name="X", country="US", currency="USD", erp_subsidiary_id="99")

    with pytest.raises(RejectedError) as caught:
        erp.upsert_customer(account("Initech"), nowhere, None)

    assert caught.value.fields == ("subsidiary",)
    assert "Invalid Field Value 99" in caught.value.message


def test_unknown_fields_and_bad_values_are_each_named(netsuite: Sandbox) -> None:
    response = netsuite.send(
        "POST",
        "/customer",
        json={
            "companyName": "Initech",
            "subsidiary": {"id": "1"},
            "colour": "red",
            "email": "not-an-address",
            "custentity_segment": "enterprise",
        },
    )

    paths = [d["o:errorPath"] for d in response.json()["o:errorDetails"]]
    assert response.status_code == 400
    assert paths == ["colour", "email"]


def test_an_unknown_record_raises_not_found(erp: NetSuiteConnector) -> None:
    with pytest.raises(NotFoundError) as caught:
        erp.get_customer("424242")

    assert caught.value.code == "NONEXISTENT_ID"


def test_seeded_lists_are_read_only(netsuite: Sandbox) -> None:
    response = netsuite.send("PATCH", "/subsidiary/1", json={"name": "Renamed"})

    assert response.status_code == 403
    assert error_detail(response.json())["o:errorCode"] == "INSUFFICIENT_PERMISSION"


def test_a_customer_with_jobs_cannot_be_deleted_but_a_job_can(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    customer_id = erp.upsert_customer(account("Initech"), US, None)
    job_id = erp.upsert_job(project("Initech ERP rollout"), customer_id, US)

    refused = netsuite.send("DELETE", f"/customer/{customer_id}")
    deleted = netsuite.send("DELETE", f"/job/{job_id}")

    assert refused.status_code == 400
    assert deleted.status_code == 204
    assert netsuite.send("GET", f"/job/{job_id}").status_code == 404
    assert netsuite.send("DELETE", f"/customer/{customer_id}").status_code == 204


def test_collections_page_with_limit_and_offset(netsuite: Sandbox) -> None:
    for n in range(5):
        netsuite.send(
            "POST", "/customer", json={"companyName": f"Customer {n}", "subsidiary": {"id": "1"}}
        )

    page = netsuite.send("GET", "/customer", params={"limit": 2, "offset": 2}).json()

    assert (page["count"], page["hasMore"], page["offset"], page["totalResults"]) == (2, True, 2, 5)
    assert [item["id"] for item in page["items"]] == ["103", "104"]
    assert {link["rel"] for link in page["links"]} == {"first", "prev", "next", "last", "self"}


def test_an_offset_that_is_not_a_multiple_of_the_limit_is_refused(netsuite: Sandbox) -> None:
    response = netsuite.send("GET", "/customer", params={"limit": 2, "offset": 3})

    assert response.status_code == 400
    detail = error_detail(response.json())
    assert (detail["o:errorCode"], detail["o:errorQueryParam"]) == ("INVALID_PARAMETER", "offset")


def test_collections_filter_with_q(netsuite: Sandbox, erp: NetSuiteConnector) -> None:
    for name, entity in (("Initech", US), ("Initrode", UK), ("Globex", US)):
        erp.upsert_customer(account(name), entity, None)

    found = erp.find_ids("customer", 'companyName START_WITH "Init" AND subsidiary ANY_OF [1]')

    assert found == ["101"]


def test_a_malformed_q_is_refused_naming_the_query_parameter(netsuite: Sandbox) -> None:
    response = netsuite.send("GET", "/customer", params={"q": "shoeSize IS 9"})

    assert response.status_code == 400
    assert error_detail(response.json())["o:errorQueryParam"] == "q"


def test_currencies_are_found_by_iso_code(erp: NetSuiteConnector) -> None:
    assert [erp.currency_id(code) for code in ("USD", "GBP", "CAD", "EUR")] == ["1", "2", "3", "4"]
