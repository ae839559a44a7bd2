"""Kantata OX vendor records, as read off the wire (``extra="ignore"``: keep what we use)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_VENDOR = ConfigDict(extra="ignore")


class KantataExternalReference(BaseModel):
    model_config = _VENDOR

    id: str
    service_name: str
    service_model: str
    service_model_ref: str
    status: str | None = None
    subject_type: str | None = None
    subject_id: int | None = None


class KantataWorkspace(BaseModel):
    model_config = _VENDOR

    id: str
    title: str
    description: str | None = None
    budgeted: bool = False
    currency: str | None = None
    price_in_cents: int | None = None
    start_date: date | None = None
    due_date: date | None = None
    archived: bool = False
    external_reference_ids: list[str] = []


class KantataStory(BaseModel):
    model_config = _VENDOR

    id: str
    title: str
    workspace_id: str
    story_type: str = "task"
    state: str | None = None
    parent_id: str | None = None
    start_date: date | None = None
    due_date: date | None = None
    budget_estimate_in_cents: int | None = None
    external_reference_ids: list[str] = []


class KantataUser(BaseModel):
    model_config = _VENDOR

    id: str
    full_name: str
    email_address: str | None = None


def results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The primary records of an envelope, in ``results`` order (not the keyed maps' order)."""
    out = []
    for entry in body.get("results") or []:
        record = (body.get(entry["key"]) or {}).get(str(entry["id"]))
        if record is not None:
            out.append(record)
    return out


def external_references(
    body: dict[str, Any], record: dict[str, Any]
) -> list[KantataExternalReference]:
    """The sideloaded external references of one record (needs ``include=external_references``)."""
    loaded = body.get("external_references") or {}
    return [
        KantataExternalReference.model_validate(loaded[i])
        for i in record.get("external_reference_ids") or []
        if i in loaded
    ]


class KantataTimeEntry(BaseModel):
    model_config = _VENDOR

    id: str
    workspace_id: str
    user_id: str
    story_id: str | None = None
    role_id: str | None = None
    date_performed: date
    time_in_minutes: int
    billable: bool = True
    approved: bool = False
    notes: str | None = None
    rate_in_cents: int | None = None
    currency: str | None = None
    active_submission_id: str | None = None
    updated_at: datetime | None = None


class KantataExpense(BaseModel):
    model_config = _VENDOR

    id: str
    workspace_id: str
    user_id: str
    story_id: str | None = None
    expense_date: date = Field(alias="date")
    category: str = ""
    amount_in_cents: int
    currency: str
    is_billable: bool = True
    approved: bool = False  # a tracked property of expense events; from the submission otherwise
    notes: str | None = None
    active_submission_id: str | None = None


class KantataSubmission(BaseModel):
    """A timesheet or expense report submission (``TimesheetSubmission`` schema)."""

    model_config = _VENDOR

    id: str
    workspace_id: str
    user_id: str | None = None
    status: str
    current_resolution_created_at_date: datetime | None = None
    time_entry_ids: list[str] = []
    expense_ids: list[str] = []


class KantataEvent(BaseModel):
    """A subscribed event; payloads are JSON strings (``optional_fields``)."""

    model_config = _VENDOR

    id: str
    event_type: str
    subject_type: str
    subject_id: int
    created_at: datetime
    subject_changed_at: datetime | None = None
    current_payload: str | None = None
    previous_payload: str | None = None

    @property
    def action(self) -> str:
        return self.event_type.rpartition(":")[2]

    def payload(self) -> dict[str, Any]:
        """The record as of this event; the last known state for a deletion."""
        raw = self.current_payload or self.previous_payload
        value = json.loads(raw) if raw else {}
        return value if isinstance(value, dict) else {}


class KantataBillingMilestone(BaseModel):
    model_config = _VENDOR

    id: str
    workspace_id: str
    title: str | None = None
    story_id: str | None = None
    billing_type: str | None = None
    amount_in_cents: int | None = None
    currency: str | None = None
    invoice_id: str | None = None
    external_reference_ids: list[str] = []
