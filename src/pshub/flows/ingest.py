"""Ingest: verify, validate, write to the inbox in one transaction, then start the flow.

A redelivered event (same source and event id) is a no-op. A bad event is refused with a
reason naming the field, and kept in the inbox as ``rejected``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pshub.bootstrap import Container
from pshub.flows import change_intake, deal_to_project, registry
from pshub.store import repos

SOURCE = "salesforce"


class ChangeEventHeader(BaseModel):
    """The part of a Salesforce change event the hub relies on (other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    entityName: str
    recordIds: list[str] = Field(min_length=1)
    changeType: str
    changedFields: list[str] = []
    commitTimestamp: int | None = None


class ChangeEventPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    ChangeEventHeader: ChangeEventHeader


class EventMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    replayId: int | None = None
    EventUuid: str = Field(min_length=1)


class SalesforceChangeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payload: ChangeEventPayload
    event: EventMeta


class EventRejected(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Accepted:
    inbox_id: int
    duplicate: bool
    correlation_id: str | None
    workflow_ids: list[str]


def parse_salesforce(body: bytes) -> SalesforceChangeEvent:
    """Validate the body; raise :class:`EventRejected` naming the first bad field."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventRejected("body", f"not valid JSON ({exc})") from exc
    try:
        event = SalesforceChangeEvent.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise EventRejected(field, err["msg"]) from exc
    header = event.payload.ChangeEventHeader
    if header.entityName != "Opportunity":
        raise EventRejected(
            "payload.ChangeEventHeader.entityName",
            f"{header.entityName!r} is not handled (expected 'Opportunity')",
        )
    values = event.payload.model_extra or {}
    if change_intake.is_change_order(header.changedFields, values):
        return event  # an approved change order on a won deal
    stage = values.get("StageName")
    if stage != "Closed Won":
        raise EventRejected("payload.StageName", f"{stage!r} is not 'Closed Won'")
    return event


def reject(c: Container, body: bytes, error: str, event_id: str | None = None) -> int:
    with c.db.session() as s:
        row = repos.reject_event(
            s,
            source_system=SOURCE,
            source_event_id=event_id,
            event_type="OpportunityChangeEvent",
            payload=body.decode("utf-8", "replace"),
            error=error,
        )
        repos.audit(s, action="inbox.rejected", system=SOURCE, inbox_id=row.id, error=error)
        return row.id


def accept_salesforce(c: Container, body: bytes, event: SalesforceChangeEvent) -> Accepted:
    """Write the event to the inbox, then start one flow per opportunity it names."""
    opp_ids = event.payload.ChangeEventHeader.recordIds
    if change_intake.is_change_order(event.payload.ChangeEventHeader.changedFields, _values(event)):
        return _accept_change_order(c, body, event)
    correlation = deal_to_project.correlation_id_for(SOURCE, opp_ids[0])
    inputs = [
        deal_to_project.ProvisionDealInput(
            correlation_id=deal_to_project.correlation_id_for(SOURCE, opp_id),
            opportunity_source_id=opp_id,
            event_id=event.event.EventUuid,
            patience_seconds=c.settings.outage_patience_seconds,
        )
        for opp_id in opp_ids
    ]
    with c.db.session() as s:
        row, new = repos.accept_event(
            s,
            source_system=SOURCE,
            source_event_id=event.event.EventUuid,
            event_type="OpportunityChangeEvent",
            payload=body.decode("utf-8"),
            correlation_id=correlation,
            workflow_id=inputs[0].workflow_id,
        )
        inbox_id = row.id
        repos.audit(
            s,
            action="inbox.accepted" if new else "inbox.duplicate",
            correlation_id=correlation,
            system=SOURCE,
            system_id=opp_ids[0],
            inbox_id=inbox_id,
            event_id=event.event.EventUuid,
        )
    if not new:
        return Accepted(inbox_id, True, correlation, [])
    return Accepted(inbox_id, False, correlation, dispatch(c, inbox_id, inputs))


def _values(event: SalesforceChangeEvent) -> dict[str, Any]:
    return dict(event.payload.model_extra or {})


def _accept_change_order(c: Container, body: bytes, event: SalesforceChangeEvent) -> Accepted:
    header = event.payload.ChangeEventHeader
    stamp = header.commitTimestamp
    committed = datetime.now(UTC) if stamp is None else datetime.fromtimestamp(stamp / 1000, UTC)
    inbox_id, duplicate, correlation, ids = change_intake.accept_salesforce(
        c,
        body,
        header.recordIds,
        event.event.EventUuid,
        _values(event),
        committed,
    )
    return Accepted(inbox_id, duplicate, correlation, ids)


def dispatch(
    c: Container, inbox_id: int, inputs: list[deal_to_project.ProvisionDealInput]
) -> list[str]:
    ids = [deal_to_project.start(i.model_copy(update={"inbox_id": inbox_id})) for i in inputs]
    with c.db.session() as s:
        repos.mark_dispatched(s, inbox_id)
    return ids


def sweep_inbox(c: Container) -> int:
    """Start flows for accepted events whose dispatch a crash interrupted (idempotent)."""
    with c.db.session() as s:
        pending = [(r.id, r.payload) for r in repos.undispatched_events(s)]
    for inbox_id, payload in pending:
        event = parse_salesforce(payload.encode())
        inputs = [
            deal_to_project.ProvisionDealInput(
                correlation_id=deal_to_project.correlation_id_for(SOURCE, opp_id),
                opportunity_source_id=opp_id,
                event_id=event.event.EventUuid,
                patience_seconds=c.settings.outage_patience_seconds,
            )
            for opp_id in event.payload.ChangeEventHeader.recordIds
        ]
        dispatch(c, inbox_id, inputs)
    return len(pending)


def retry_exception(c: Container, exception_id: int, actor: str = "operator") -> dict[str, Any]:
    """Start the exception's flow again as a new attempt; the exception shows 'retrying'."""
    with c.db.session() as s:
        row = repos.get_exception(s, exception_id)
        if row is None:
            raise LookupError(f"exception {exception_id} does not exist")
        if row.status == "resolved":
            raise ValueError(f"exception {exception_id} is already resolved")
        row.attempts += 1
        row.status = "retrying"
        # The trigger holds the latest attempt's input; a second click before it ends is a no-op.
        attempt = int(row.trigger["input"].get("attempt", 1)) + 1
        trigger, correlation = dict(row.trigger), row.correlation_id
        repos.audit(
            s,
            action="exception.retry",
            actor=actor,
            correlation_id=correlation,
            exception_id=exception_id,
            attempt=attempt,
        )
    workflow_id = registry.restart(trigger, attempt)
    return {"exception_id": exception_id, "workflow_id": workflow_id, "attempt": attempt}
