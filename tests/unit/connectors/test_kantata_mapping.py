"""Kantata mapping: exact money in minor units, payloads and change detection."""

from __future__ import annotations

from datetime import date

import pytest

from pshub.connectors.kantata import mapping
from pshub.connectors.kantata.models import KantataStory, KantataWorkspace, results
from pshub.domain.ids import external_id
from pshub.domain.money import Money, MoneyError
from pshub.domain.projects import Milestone, Project, Task

PROJECT = Project(
    id="prj_1",
    contract_id="ctr_1",
    name="Acme - Rollout",
    template="IMPL",
    legal_entity="US01",
    currency="USD",
    budget=Money.of("1000.50", "USD"),
    start_date=date(2025, 1, 6),
    end_date=date(2025, 3, 31),
    tasks=(Task(id="tsk_1", name="Design"),),
    milestones=(
        Milestone(
            id="mst_1", name="Go-live", amount=Money.of("400.25", "USD"), due_date=date(2025, 3, 31)
        ),
    ),
)


@pytest.mark.parametrize(
    ("amount", "currency", "cents"),
    [
        ("1234.56", "USD", 123456),
        ("0.01", "USD", 1),
        ("1500000", "JPY", 1500000),
        ("12.345", "BHD", 12345),
        ("-5.10", "EUR", -510),
    ],
)
def test_money_converts_to_minor_units_and_back_exactly(
    amount: str, currency: str, cents: int
) -> None:
    money = Money.of(amount, currency)
    assert mapping.to_cents(money) == cents
    assert mapping.from_cents(cents, currency).amount == money.amount


def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded() -> None:
    with pytest.raises(MoneyError, match="minor unit"):
        mapping.to_cents(Money.of("10.005", "USD"))


def test_a_whole_price_is_an_integer_and_a_fractional_one_an_exact_string() -> None:
    assert mapping.price_value(Money.of("120000.00", "USD")) == 120000
    assert mapping.price_value(Money.of("1000.5", "USD")) == "1000.50"


def test_the_workspace_payload_carries_budget_dates_and_client() -> None:
    fields = mapping.workspace_fields(PROJECT, "Acme Corp", {"client": 101})
    assert fields["price"] == "1000.50"
    assert (fields["currency"], fields["budgeted"]) == ("USD", True)
    assert (fields["start_date"], fields["due_date"]) == ("2025-01-06", "2025-03-31")
    assert fields["invoice_preference"] == {"client_invoice_name": "Acme Corp"}
    assert fields["custom_fields"] == [{"custom_field_id": 101, "value": "Acme Corp"}]


def test_the_external_reference_is_derived_from_the_canonical_id() -> None:
    ref = mapping.external_reference("milestone", "mst_1")
    assert ref == {
        "service_name": "pshub",
        "service_model": "milestone",
        "service_model_ref": external_id("mst_1"),
        "status": "successful",
    }


def test_a_milestone_story_carries_its_value_in_cents() -> None:
    story = mapping.milestone_story(PROJECT.milestones[0], "1001")
    assert story == {
        "workspace_id": 1001,
        "title": "Go-live",
        "story_type": "milestone",
        "budget_estimate_in_cents": 40025,
        "due_date": "2025-03-31",
    }


def test_an_unchanged_workspace_needs_no_update() -> None:
    current = KantataWorkspace(
        id="1",
        title="Acme - Rollout",
        budgeted=True,
        currency="USD",
        price_in_cents=100050,
        start_date=date(2025, 1, 6),
        due_date=date(2025, 3, 31),
    )
    assert mapping.workspace_changes(current, PROJECT, "Acme Corp") == {}
    moved = current.model_copy(update={"price_in_cents": 100000})
    assert mapping.workspace_changes(moved, PROJECT, "Acme Corp")["price"] == "1000.50"


def test_story_changes_name_only_the_fields_that_differ() -> None:
    current = KantataStory(
        id="5",
        title="Go-live",
        workspace_id="1001",
        story_type="milestone",
        budget_estimate_in_cents=40025,
        due_date=date(2025, 3, 1),
    )
    desired = mapping.milestone_story(PROJECT.milestones[0], "1001")
    assert mapping.story_changes(current, desired) == {"due_date": "2025-03-31"}


def test_results_follow_the_results_order_not_the_keyed_map() -> None:
    body = {
        "results": [{"key": "stories", "id": "2"}, {"key": "stories", "id": "1"}],
        "stories": {"1": {"id": "1"}, "2": {"id": "2"}},
    }
    assert [r["id"] for r in results(body)] == ["2", "1"]
