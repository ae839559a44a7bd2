"""API schemas (XPublic): what the HTTP API answers. Never ORM rows or domain internals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class WebhookAccepted(BaseModel):
    status: str  # accepted | duplicate
    inbox_id: int
    correlation_id: str | None
    workflow_ids: list[str]


class ErrorBody(BaseModel):
    error: str
    field: str | None = None
    reason: str
    inbox_id: int | None = None


class ExceptionPublic(BaseModel):
    id: int
    flow: str
    kind: str
    status: str
    correlation_id: str
    source_system: str
    source_record: str
    reason_code: str
    reason: str
    amount: str | None
    currency: str | None
    legal_entity: str | None
    attempts: int
    findings: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class HopPublic(BaseModel):
    at: datetime
    action: str
    actor: str
    system: str | None
    system_id: str | None
    entity_type: str | None
    entity_id: str | None
    detail: dict[str, Any]


class RunPublic(BaseModel):
    workflow_id: str
    flow: str
    status: str
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None


class FlowPublic(BaseModel):
    correlation_id: str
    status: str
    runs: list[RunPublic]
    system_ids: dict[str, dict[str, str]]
    hops: list[HopPublic]
    exceptions: list[ExceptionPublic]
