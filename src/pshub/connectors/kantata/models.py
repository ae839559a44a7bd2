"""Kantata OX vendor records, as read off the wire (``extra="ignore"``: keep what we use)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

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
