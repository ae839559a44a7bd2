"""KantataConnector against the sandbox: idempotent upserts, paging, error translation."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from pshub.connectors.errors import (
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnauthorizedError,
)
from pshub.connectors.kantata import KantataConnector
from pshub.domain.ids import external_id
from pshub.domain.money import Money
from pshub.domain.projects import Milestone, Project
from pshub.sandboxes.server import ThreadedServer, free_port


def _records(api: httpx.Client, collection: str) -> list[dict[str, object]]:
    return list(api.get(f"/_sandbox/records/{collection}").json())


def test_upserting_a_project_twice_leaves_one_workspace_and_one_story_per_task_and_milestone(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    first = connector.upsert_project(project, "Acme Corp")
    second = connector.upsert_project(project, "Acme Corp")
    assert first == second
    assert len(_records(api, "workspaces")) == 1
    stories = _records(api, "stories")
    assert len(stories) == len(project.tasks) + len(project.milestones)
    assert set(first.task_ids) == {t.id for t in project.tasks}
    assert set(first.milestone_ids) == {m.id for m in project.milestones}


def test_every_written_record_carries_its_external_id(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    ref = connector.upsert_project(project, "Acme Corp")
    by_subject = {
        (r["subject_type"], str(r["subject_id"])): r["service_model_ref"]
        for r in _records(api, "external_references")
    }
    assert by_subject[("Workspace", ref.project_id)] == external_id(project.id)
    for milestone in project.milestones:
        story_id = ref.milestone_ids[milestone.id]
        assert by_subject[("Story", story_id)] == external_id(milestone.id)


def test_a_milestone_carries_its_billing_amount_in_cents(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    ref = connector.upsert_project(project, "Acme Corp")
    story = api.get(f"/api/v1/stories/{ref.milestone_ids[project.milestones[1].id]}.json")
    record = next(iter(story.json()["stories"].values()))
    assert (record["story_type"], record["budget_estimate_in_cents"]) == ("milestone", 9000000)


def test_a_budget_change_updates_the_same_workspace_in_place(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    before = connector.upsert_project(project, "Acme Corp")
    changed = project.model_copy(
        update={
            "budget": Money.of("150000.55", "USD"),
            "milestones": (
                project.milestones[0],
                Milestone(
                    id=project.milestones[1].id,
                    name="Go-live",
                    amount=Money.of("120000.55", "USD"),
                    due_date=project.milestones[1].due_date,
                ),
            ),
        }
    )
    after = connector.upsert_project(changed, "Acme Corp")
    assert after == before
    [workspace] = _records(api, "workspaces")
    assert workspace["price_in_cents"] == 15000055
    assert workspace["price"] == "150000.55"
    story = api.get(f"/api/v1/stories/{after.milestone_ids[changed.milestones[1].id]}").json()
    assert next(iter(story["stories"].values()))["budget_estimate_in_cents"] == 12000055
    assert len(_records(api, "stories")) == 4


def test_list_follows_paging_across_pages(connector: KantataConnector, api: httpx.Client) -> None:
    for start in range(0, 250, 100):
        batch = [{"title": f"P{n}"} for n in range(start, min(250, start + 100))]
        api.post("/api/v1/workspaces.json", json={"workspaces": batch})
    seen = [w["id"] for w in connector.list("workspaces")]
    assert len(seen) == len(set(seen)) == 250


def test_a_refused_token_raises_unauthorized(sandbox: ThreadedServer, project: Project) -> None:
    with KantataConnector(sandbox.url, "wrong") as psa, pytest.raises(UnauthorizedError):
        psa.upsert_project(project, "Acme Corp")


def test_a_validation_error_raises_rejected_naming_the_field(
    connector: KantataConnector, project: Project
) -> None:
    nameless = project.model_copy(update={"name": ""})
    with pytest.raises(RejectedError) as caught:
        connector.upsert_project(nameless, "Acme Corp")
    assert caught.value.fields == ("title",)
    assert caught.value.status == 422


def test_an_amount_the_currency_cannot_hold_is_refused_before_any_call(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    odd = project.model_copy(update={"budget": Money.of("10.005", "USD")})
    with pytest.raises(ValueError, match="minor unit"):
        connector.upsert_project(odd, "Acme Corp")
    assert _records(api, "workspaces") == []


def test_an_outage_raises_a_transient_error(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    api.post("/_sandbox/outage", json={"seconds": 60})
    with pytest.raises(TransientError) as caught:
        connector.upsert_project(project, "Acme Corp")
    assert caught.value.status == 503


def test_a_rate_limit_raises_rate_limited_with_retry_after(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    api.put("/_sandbox/faults", json={"rate_limit_per_second": 0.01, "rate_limit_burst": 1})
    with pytest.raises(RateLimitedError) as caught:
        connector.upsert_project(project, "Acme Corp")
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1


def test_server_errors_raise_a_transient_error(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    api.put("/_sandbox/faults", json={"error_rate": 1})
    with pytest.raises(TransientError) as caught:
        connector.upsert_project(project, "Acme Corp")
    assert caught.value.status == 500


def test_an_unreachable_server_raises_a_transient_error(project: Project) -> None:
    with (
        KantataConnector(f"http://127.0.0.1:{free_port()}", "t", timeout=2.0) as psa,
        pytest.raises(TransientError),
    ):
        psa.upsert_project(project, "Acme Corp")


def test_a_missing_record_raises_not_found(connector: KantataConnector) -> None:
    with pytest.raises(NotFoundError):
        list(connector.list("workspaces/424242"))


def test_the_workspace_budget_survives_the_round_trip_exactly(
    connector: KantataConnector, api: httpx.Client, project: Project
) -> None:
    connector.upsert_project(project, "Acme Corp")
    [workspace] = connector.list("workspaces", include_archived=True)
    assert Decimal(workspace["price_in_cents"]) / 100 == project.budget.amount


def test_the_client_name_goes_to_the_invoice_preference_and_configured_custom_fields(
    sandbox: ThreadedServer, api: httpx.Client, project: Project
) -> None:
    fields = {"client": 101, "legal_entity": 102}
    with KantataConnector(sandbox.url, "kantata-sandbox-token", custom_field_ids=fields) as psa:
        psa.upsert_project(project, "Acme Corp")
    [preference] = _records(api, "workspace_invoice_preferences")
    values = {v["custom_field_name"]: v["value"] for v in _records(api, "custom_field_values")}
    assert preference["client_invoice_name"] == "Acme Corp"
    assert values == {"Client": "Acme Corp", "Legal Entity": "US01"}
