"""The Kantata sandbox speaks the vendor's wire format: envelope, paging, auth, errors."""

from __future__ import annotations

import httpx

from pshub.sandboxes.server import ThreadedServer


def _bulk_create_workspaces(api: httpx.Client, total: int) -> None:
    for start in range(0, total, 100):  # the vendor's bulk limit for workspaces
        batch = [{"title": f"Project {n:03d}"} for n in range(start, min(total, start + 100))]
        response = api.post("/api/v1/workspaces.json", json={"workspaces": batch})
        assert response.status_code == 200, response.text


def test_a_list_answer_is_the_documented_envelope(api: httpx.Client) -> None:
    api.post("/api/v1/workspaces.json", json={"workspace": {"title": "One"}})
    body = api.get("/api/v1/workspaces.json").json()
    assert body["count"] == 1
    assert body["results"] == [{"key": "workspaces", "id": body["results"][0]["id"]}]
    assert body["workspaces"][body["results"][0]["id"]]["title"] == "One"
    assert body["meta"] == {"count": 1, "page_count": 1, "page_number": 1, "page_size": 20}


def test_250_records_at_200_per_page_come_in_two_pages_each_seen_once(api: httpx.Client) -> None:
    _bulk_create_workspaces(api, 250)
    first = api.get("/api/v1/workspaces", params={"per_page": 200, "page": 1}).json()
    second = api.get("/api/v1/workspaces", params={"per_page": 200, "page": 2}).json()
    assert first["meta"] == {"count": 250, "page_count": 2, "page_number": 1, "page_size": 200}
    assert (len(first["results"]), len(second["results"])) == (200, 50)
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == 250


def test_per_page_above_the_vendor_maximum_is_capped_at_200(api: httpx.Client) -> None:
    _bulk_create_workspaces(api, 201)
    body = api.get("/api/v1/workspaces.json", params={"per_page": 500}).json()
    assert body["meta"]["page_size"] == 200
    assert len(body["results"]) == 200


def test_a_request_without_a_bearer_token_is_refused_with_an_oauth_error(
    sandbox: ThreadedServer,
) -> None:
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as anonymous:
        missing = anonymous.get("/api/v1/workspaces.json")
        wrong = anonymous.get(
            "/api/v1/workspaces.json", headers={"Authorization": "Bearer not-a-token"}
        )
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json() == {"errors": [{"type": "oauth", "message": "Invalid OAuth 2 Request"}]}


def test_a_workspace_without_a_title_is_refused_with_422_naming_the_field(
    api: httpx.Client,
) -> None:
    response = api.post("/api/v1/workspaces.json", json={"workspace": {"price": 10}})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"type": "validation", "message": "Please give your project a title", "field": "title"}
    ]


def test_a_story_needs_an_existing_workspace_and_a_known_story_type(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/stories.json",
        json={"story": {"workspace_id": 999, "title": "x", "story_type": "epic"}},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"workspace_id", "story_type"}


def test_external_reference_filters_find_the_record_written_with_that_reference(
    api: httpx.Client,
) -> None:
    ref = {"service_name": "pshub", "service_model": "project", "service_model_ref": "PSHUB-x"}
    api.post("/api/v1/workspaces.json", json={"workspace": {"title": "Other"}})
    created = api.post(
        "/api/v1/workspaces.json", json={"workspace": {"title": "Mine", "external_reference": ref}}
    ).json()
    found = api.get(
        "/api/v1/workspaces.json",
        params={
            "external_reference_service_name": "pshub",
            "external_reference_service_model_refs": "PSHUB-x",
        },
    ).json()
    without = api.get("/api/v1/workspaces.json", params={"has_external_references": "false"})
    assert [r["id"] for r in found["results"]] == [created["results"][0]["id"]]
    assert [w["title"] for w in without.json()["workspaces"].values()] == ["Other"]


def test_a_price_in_base_units_reads_back_in_cents(api: httpx.Client) -> None:
    body = api.post(
        "/api/v1/workspaces.json",
        json={"workspace": {"title": "Yen", "currency": "JPY", "price": 1500000}},
    ).json()
    workspace = next(iter(body["workspaces"].values()))
    assert (workspace["price_in_cents"], workspace["currency_base_unit"]) == (1500000, 1)
    cents = api.put(
        f"/api/v1/workspaces/{workspace['id']}.json",
        json={"workspace": {"currency": "USD", "price": "1234.56"}},
    ).json()
    assert next(iter(cents["workspaces"].values()))["price_in_cents"] == 123456


def test_an_archived_workspace_is_hidden_unless_asked_for(api: httpx.Client) -> None:
    created = api.post("/api/v1/workspaces.json", json={"workspace": {"title": "Old"}}).json()
    wid = created["results"][0]["id"]
    api.put(f"/api/v1/workspaces/{wid}", json={"workspace": {"archived": True}})
    assert api.get("/api/v1/workspaces.json").json()["count"] == 0
    assert (
        api.get("/api/v1/workspaces.json", params={"include_archived": "true"}).json()["count"] == 1
    )
    assert api.get(f"/api/v1/workspaces/{wid}.json").status_code == 404


def test_users_me_is_the_account_administrator(api: httpx.Client) -> None:
    me = api.get("/api/v1/users/me.json").json()
    everyone = api.get("/api/v1/users.json").json()
    assert me["count"] == 1
    assert me["results"][0]["id"] in everyone["users"]


def test_an_injected_rate_limit_answers_429_with_retry_after_in_kantata_shape(
    api: httpx.Client,
) -> None:
    api.put("/_sandbox/faults", json={"rate_limit_per_second": 0.01, "rate_limit_burst": 1})
    response = api.get("/api/v1/workspaces.json")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["errors"][0]["type"] == "system"
