"""Operator actions over the JSON API and the console forms: fix a mapping and retry, edit and
retry, bulk retry, replay by correlation id, lineage of a deal."""

from __future__ import annotations

import time

import pytest

from pshub.flows.durable import result_of
from pshub.store import repos
from tests.integration.console.conftest import Console, login
from tests.integration.test_deal_to_project_fakes import deliver, wait_result

DE_ENTITY = {
    "code": "DE",
    "name": "Northwind Consulting GmbH",
    "country": "DE",
    "currency": "EUR",
    "erp_subsidiary_id": "4",
    "tax_profiles": [
        {"code": "DE-VAT", "customer_country": "GB", "rate": "0", "erp_tax_code": "VAT:RC"}
    ],
}


@pytest.fixture
def operator(console: Console):
    key = console.api_key(["read", "operate"])
    with console.client() as client:
        client.headers["X-API-Key"] = key
        yield client


def exception_for(console: Console, opp_id: str, event_id: str) -> int:
    accepted = deliver(console.c, opp_id, event_id)
    return int(wait_result(accepted.workflow_ids[0])["exception_id"])


def wait_status(console: Console, exc_id: int, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with console.c.db.session() as s:
            if repos.get_exception(s, exc_id).status == status:
                return
        time.sleep(0.2)
    raise AssertionError(f"exception {exc_id} never became {status}")


def test_mapping_the_missing_entity_retries_the_waiting_deal_to_completion(
    console: Console, operator
) -> None:
    exc_id = exception_for(console, "006DE", "evt-1")
    answer = operator.post("/policy/legal-entities", json=DE_ENTITY)
    assert answer.status_code == 201, answer.text
    (retried,) = answer.json()["retried"]
    assert retried["ok"] and retried["exception_id"] == exc_id
    assert wait_result(retried["workflow_id"])["status"] == "completed"
    wait_status(console, exc_id, "resolved")
    assert len(console.erp.jobs) == 1
    saved = (console.c.settings.data_dir / "policy" / "legal_entities.yaml").read_text()
    assert "code: DE" in saved and "code: UK" in saved  # the defaults were kept
    audit = operator.get("/audit?action=policy.legal_entity.saved").json()
    assert audit[0]["detail"]["before"] is None and audit[0]["detail"]["after"]["code"] == "DE"


def test_an_invalid_mapping_is_refused_and_the_policy_left_as_it_was(
    console: Console, operator
) -> None:
    bad = {**DE_ENTITY, "currency": "EURO"}
    assert operator.post("/policy/legal-entities", json=bad).status_code == 422
    assert not (console.c.settings.data_dir / "policy" / "legal_entities.yaml").exists() or (
        "code: DE"
        not in (console.c.settings.data_dir / "policy" / "legal_entities.yaml").read_text()
    )


def test_edit_and_retry_records_the_input_before_and_after(console: Console, operator) -> None:
    exc_id = exception_for(console, "006DE", "evt-2")
    before = operator.get(f"/exceptions/{exc_id}").json()
    assert before["status"] == "open"
    bad = operator.post(f"/exceptions/{exc_id}/edit-retry", json={"input": {"attempt": 1}})
    assert bad.status_code == 422
    new_input = {
        "correlation_id": "deal:salesforce:006DE",
        "opportunity_source_id": "006DE",
        "patience_seconds": 30,
    }
    ok = operator.post(f"/exceptions/{exc_id}/edit-retry", json={"input": new_input})
    assert ok.status_code == 202, ok.text
    assert wait_result(ok.json()["workflow_id"])["status"] == "exception"  # still unmapped
    (edit,) = operator.get("/audit?action=exception.edited").json()
    assert edit["detail"]["before"]["input"]["patience_seconds"] == 120
    assert edit["detail"]["after"]["input"]["patience_seconds"] == 30


def test_bulk_retry_answers_for_each_exception(console: Console, operator) -> None:
    exc_id = exception_for(console, "006DE", "evt-3")
    answer = operator.post("/exceptions/bulk-retry", json={"ids": [exc_id, 999999]})
    results = {r["exception_id"]: r for r in answer.json()["results"]}
    assert results[exc_id]["ok"] and not results[999999]["ok"]
    assert "does not exist" in results[999999]["error"]
    wait_result(results[exc_id]["workflow_id"])


def test_replay_by_correlation_id_reruns_the_flow_and_links_the_original(
    console: Console, operator
) -> None:
    accepted = deliver(console.c, "006OK", "evt-4")
    assert wait_result(accepted.workflow_ids[0])["status"] == "completed"
    steps = operator.get(f"/runs/{accepted.workflow_ids[0]}/steps").json()
    assert [s["name"] for s in steps][:2] == ["record_start", "fetch_opportunity"]
    answer = operator.post("/replay", json={"correlation_id": accepted.correlation_id})
    assert answer.status_code == 202, answer.text
    replay_id = answer.json()["workflow_id"]
    assert replay_id == f"{accepted.workflow_ids[0]}:replay1"
    assert result_of(replay_id)["status"] == "completed"
    assert len(console.erp.jobs) == 1 and len(console.psa.projects) == 1  # idempotent writes
    (entry,) = operator.get("/audit?action=flow.replayed").json()
    assert entry["detail"]["original_workflow_id"] == accepted.workflow_ids[0]
    assert entry["detail"]["workflow_id"] == replay_id
    from_step = operator.post(
        "/replay", json={"correlation_id": accepted.correlation_id, "from_step": 5}
    )
    assert from_step.json()["workflow_id"].endswith(":replay2")
    result_of(from_step.json()["workflow_id"])
    assert operator.post("/replay", json={"correlation_id": "nope"}).status_code == 404


def test_the_lineage_page_follows_a_deal_into_every_system(console: Console) -> None:
    accepted = deliver(console.c, "006OK", "evt-5")
    wait_result(accepted.workflow_ids[0])
    with console.client() as client:
        login(client, "victor")
        page = client.get("/console/lineage", params={"q": "006OK"}).text
        by_erp_id = client.get("/console/lineage", params={"q": "500"}).text
    assert accepted.correlation_id in page
    for expected in ("opportunity", "project", "netsuite", "kantata", "erp.job.upserted"):
        assert expected in page
    assert accepted.correlation_id in by_erp_id
    assert page.index(">opportunity<") < page.index(">project<")
