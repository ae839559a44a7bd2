"""Plain functions between canonical projects and Kantata OX workspaces and stories.

Money on the wire: a workspace budget is written as ``price`` in base units of the currency
(the vendor's update schema: "in base units of the currency (e.g. dollars for USD)") and read
back as ``price_in_cents``; a story's value is ``budget_estimate_in_cents``. Both cents forms
are the currency's minor units, converted exactly with Decimal; an amount finer than the
minor unit is refused rather than rounded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pshub.connectors.kantata.models import KantataStory, KantataWorkspace
from pshub.domain.ids import external_id
from pshub.domain.money import Money, MoneyError, minor_unit
from pshub.domain.projects import Milestone, Project, Task

SERVICE_NAME = "pshub"


def to_cents(amount: Money) -> int:
    """Money -> integer minor units (cents for USD, yen for JPY, fils for BHD), exactly."""
    units = amount.amount.scaleb(minor_unit(amount.currency))
    if units != units.to_integral_value():
        raise MoneyError(f"amount: {amount.amount} {amount.currency} is finer than the minor unit")
    return int(units)


def from_cents(cents: int, currency: str) -> Money:
    """Integer minor units -> Money, exactly."""
    return Money.of(Decimal(cents).scaleb(-minor_unit(currency)), currency)


def price_value(amount: Money) -> int | str:
    """``price`` in base units: an integer as the vendor schema types it when whole, else the
    exact decimal string (Kantata coerces it) so no minor units are lost."""
    cents = to_cents(amount)
    whole, rest = divmod(cents, 10 ** minor_unit(amount.currency))
    if rest == 0:
        return int(whole)
    return str(from_cents(cents, amount.currency).amount)


def external_reference(model: str, canonical_id: str) -> dict[str, str]:
    """The ``external_reference`` object that keys a record to its canonical id."""
    return {
        "service_name": SERVICE_NAME,
        "service_model": model,
        "service_model_ref": external_id(canonical_id),
        "status": "successful",
    }


def workspace_fields(
    project: Project, customer_name: str, custom_field_ids: dict[str, int] | None = None
) -> dict[str, Any]:
    """The workspace fields pshub owns (create and update)."""
    fields: dict[str, Any] = {
        "title": project.name,
        "budgeted": True,
        "currency": project.budget.currency,
        "price": price_value(project.budget),
        "invoice_preference": {"client_invoice_name": customer_name},
    }
    if project.start_date is not None:
        fields["start_date"] = project.start_date.isoformat()
    if project.end_date is not None:
        fields["due_date"] = project.end_date.isoformat()
    values = {
        "client": customer_name,
        "legal_entity": project.legal_entity,
        "contract": project.contract_id,
    }
    custom = [
        {"custom_field_id": fid, "value": values[name]}
        for name, fid in (custom_field_ids or {}).items()
        if name in values
    ]
    if custom:
        fields["custom_fields"] = custom
    return fields


def workspace_changes(
    current: KantataWorkspace,
    project: Project,
    customer_name: str,
    custom_field_ids: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The update to send so ``current`` matches ``project``; empty when it already does."""
    same = (
        current.title == project.name
        and current.budgeted
        and current.currency == project.budget.currency
        and current.price_in_cents == to_cents(project.budget)
        and current.start_date == project.start_date
        and current.due_date == project.end_date
        and not current.archived
    )
    if same:
        return {}
    fields = workspace_fields(project, customer_name, custom_field_ids)
    if current.archived:
        fields["archived"] = False
    return fields


def task_story(task: Task, workspace_id: str) -> dict[str, Any]:
    return {"workspace_id": int(workspace_id), "title": task.name, "story_type": "task"}


def milestone_story(milestone: Milestone, workspace_id: str) -> dict[str, Any]:
    story: dict[str, Any] = {
        "workspace_id": int(workspace_id),
        "title": milestone.name,
        "story_type": "milestone",
        "budget_estimate_in_cents": to_cents(milestone.amount),
    }
    if milestone.due_date is not None:
        story["due_date"] = milestone.due_date.isoformat()
    return story


def story_changes(current: KantataStory, desired: dict[str, Any]) -> dict[str, Any]:
    """The story fields that differ from ``desired`` (``workspace_id`` is not updatable)."""
    changes = {}
    for name, value in desired.items():
        if name == "workspace_id":
            continue
        have: Any = getattr(current, name, None)
        if isinstance(have, date):
            have = have.isoformat()
        if have != value:
            changes[name] = value
    return changes


def story_amount(story: KantataStory, currency: str) -> Money | None:
    """A milestone's value in canonical money."""
    if story.budget_estimate_in_cents is None:
        return None
    return from_cents(story.budget_estimate_in_cents, currency)


def workspace_budget(workspace: KantataWorkspace) -> Money | None:
    if workspace.price_in_cents is None or workspace.currency is None:
        return None
    return from_cents(workspace.price_in_cents, workspace.currency)
