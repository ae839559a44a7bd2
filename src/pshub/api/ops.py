"""Operator actions: resolve, edit-and-retry, bulk retry, replay by correlation id, and the
legal-entity mapping fix, as functions (used by the console) and as a JSON API.

Every action is authorised by the caller's scope, records who did it with the state before
and after in the audit trail, and is safe to repeat: retries start a new attempt of the
flow, replays fork the recorded workflow, and every write the flows make is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from pshub.api.security import Principal, require
from pshub.bootstrap import Container
from pshub.console.policy_edit import EntityMapping, add_legal_entity
from pshub.flows import deal_to_project, ingest
from pshub.observability import correlation_scope
from pshub.store import repos
from pshub.store.tables import AuditEntry, BusinessException

log = structlog.get_logger("pshub.ops")

# Input models of the flows whose trigger an operator may edit; other flows' inputs are
# checked by the flow itself when it starts.
INPUT_MODELS: dict[str, type[BaseModel]] = {
    deal_to_project.FLOW: deal_to_project.ProvisionDealInput
}
BULK_LIMIT = 500
# Module level: FastAPI resolves these (string) annotations in the module's namespace.
Operator = Annotated[Principal, Depends(require("operate"))]
Reader = Annotated[Principal, Depends(require("read"))]


class OpsError(Exception):
    """An action that cannot be done; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- actions ---------------------------------------------------------------------------------


def resolve(c: Container, exception_id: int, actor: str, note: str) -> dict[str, Any]:
    """Close an exception by hand (the work was done another way, or is not needed)."""
    with c.db.session() as s:
        row = _exception(s, exception_id)
        if row.status == "resolved":
            raise OpsError(409, f"exception {exception_id} is already resolved")
        before = row.status
        now = repos.utcnow()
        row.status, row.resolved_at, row.updated_at = "resolved", now, now
        repos.audit(
            s,
            action="exception.resolved",
            actor=actor,
            correlation_id=row.correlation_id,
            exception_id=exception_id,
            before={"status": before},
            after={"status": "resolved"},
            note=note,
        )
        cid = row.correlation_id
    with correlation_scope(cid):
        log.info("exception.resolved", exception_id=exception_id, actor=actor)
    return {"exception_id": exception_id, "status": "resolved"}


def retry(c: Container, exception_id: int, actor: str) -> dict[str, Any]:
    try:
        result = ingest.retry_exception(c, exception_id, actor=actor)
    except LookupError as exc:
        raise OpsError(404, str(exc)) from exc
    except ValueError as exc:
        raise OpsError(409, str(exc)) from exc
    log.info("exception.retried", actor=actor, **result)
    return result


def edit_and_retry(
    c: Container, exception_id: int, new_input: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Replace the flow input stored with the exception, then retry it."""
    with c.db.session() as s:
        row = _exception(s, exception_id)
        if row.status == "resolved":
            raise OpsError(409, f"exception {exception_id} is already resolved")
        old = dict(row.trigger.get("input", {}))
        edited = {**new_input, "attempt": old.get("attempt", 1)}  # attempts are the hub's
        model = INPUT_MODELS.get(row.flow)
        if model is not None:
            try:
                edited = model.model_validate(edited).model_dump(mode="json")
            except ValidationError as exc:
                raise OpsError(422, f"input: {exc.errors()[0]['msg']}") from exc
        row.trigger = {**row.trigger, "input": edited}
        repos.audit(
            s,
            action="exception.edited",
            actor=actor,
            correlation_id=row.correlation_id,
            exception_id=exception_id,
            before={"input": old},
            after={"input": edited},
        )
    return retry(c, exception_id, actor)


def bulk_retry(c: Container, ids: Sequence[int], actor: str) -> list[dict[str, Any]]:
    """Retry each exception; one failing does not stop the others."""
    results: list[dict[str, Any]] = []
    for exception_id in list(dict.fromkeys(ids))[:BULK_LIMIT]:
        try:
            results.append({"ok": True, **retry(c, exception_id, actor)})
        except OpsError as exc:
            results.append({"ok": False, "exception_id": exception_id, "error": str(exc)})
    with c.db.session() as s:
        repos.audit(
            s,
            action="exception.bulk_retry",
            actor=actor,
            ids=[r["exception_id"] for r in results],
            retried=sum(1 for r in results if r["ok"]),
        )
    return results


def map_entity_and_retry(
    c: Container, mapping: EntityMapping, actor: str, retry_waiting: bool = True
) -> dict[str, Any]:
    """Add a legal entity to the policy, then retry every open exception waiting for it."""
    try:
        path, before = add_legal_entity(c.settings, mapping)
    except ValueError as exc:
        raise OpsError(422, str(exc)) from exc
    with c.db.session() as s:
        repos.audit(
            s,
            action="policy.legal_entity.saved",
            actor=actor,
            entity_type="legal_entity",
            entity_id=mapping.code,
            file=str(path),
            before=before,
            after=mapping.model_dump(mode="json"),
        )
        waiting = s.scalars(
            select(BusinessException.id).where(
                BusinessException.status == "open",
                BusinessException.reason_code == "entity.unmapped",
                BusinessException.legal_entity == mapping.code,
            )
        ).all()
    retried = bulk_retry(c, waiting, actor) if retry_waiting and waiting else []
    return {"legal_entity": mapping.code, "policy_file": str(path), "retried": retried}


def replay(
    c: Container,
    correlation_id: str,
    actor: str,
    workflow_id: str | None = None,
    from_step: int = 0,
) -> dict[str, Any]:
    """Run a recorded workflow again with the current code, from its trigger (step 0) or from
    ``from_step`` (earlier steps' recorded results are reused). The audit links both ids."""
    from dbos import DBOS, SetWorkflowID

    with c.db.session() as s:
        runs = repos.runs_for(s, correlation_id)
        chosen = [r for r in runs if workflow_id in (None, r.workflow_id)]
        if not chosen:
            raise OpsError(404, f"no run for correlation id {correlation_id!r}")
        original = chosen[-1]
        replays = s.scalars(
            select(AuditEntry.id).where(
                AuditEntry.correlation_id == correlation_id, AuditEntry.action == "flow.replayed"
            )
        ).all()
        new_id = f"{original.workflow_id}:replay{len(replays) + 1}"
        flow = original.flow
    queue = flow if DBOS.retrieve_queue(flow) is not None else None
    try:
        with SetWorkflowID(new_id):
            DBOS.fork_workflow(original.workflow_id, from_step, queue_name=queue)
    except Exception as exc:  # DBOS reports unknown ids and bad steps as plain exceptions
        raise OpsError(409, f"cannot replay {original.workflow_id}: {exc}") from exc
    with c.db.session() as s:
        repos.audit(
            s,
            action="flow.replayed",
            actor=actor,
            correlation_id=correlation_id,
            original_workflow_id=original.workflow_id,
            workflow_id=new_id,
            from_step=from_step,
        )
    with correlation_scope(correlation_id):
        log.info("flow.replayed", original=original.workflow_id, replay=new_id, actor=actor)
    return {
        "correlation_id": correlation_id,
        "original": original.workflow_id,
        "workflow_id": new_id,
    }


def steps_of(workflow_id: str) -> list[dict[str, Any]]:
    """The recorded steps of a workflow (what an operator may replay from)."""
    from dbos import DBOS

    try:
        steps = DBOS.list_workflow_steps(workflow_id) or []
    except Exception:  # an unknown or purged workflow has no steps to offer
        return []
    return [
        {
            "step": st["function_id"],
            "name": st["function_name"].rsplit(".", 1)[-1],
            "error": None if st["error"] is None else str(st["error"]),
        }
        for st in steps
    ]


def _exception(s: Any, exception_id: int) -> BusinessException:
    row = repos.get_exception(s, exception_id)
    if row is None:
        raise OpsError(404, f"exception {exception_id} does not exist")
    return row


# --- JSON API --------------------------------------------------------------------------------


class ResolveRequest(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class EditRetryRequest(BaseModel):
    input: dict[str, Any]


class BulkRetryRequest(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=BULK_LIMIT)


class ReplayRequest(BaseModel):
    correlation_id: str = Field(min_length=1)
    workflow_id: str | None = None
    from_step: int = Field(0, ge=0)


class EntityMappingRequest(EntityMapping):
    retry_waiting: bool = True


def ops_router(c: Container) -> APIRouter:
    router = APIRouter(tags=["operations"])

    def run(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except OpsError as exc:
            raise HTTPException(exc.status, str(exc)) from exc

    @router.post("/exceptions/bulk-retry", status_code=202)
    def bulk(body: BulkRetryRequest, who: Operator) -> dict[str, Any]:
        return {"results": bulk_retry(c, body.ids, who.name)}

    @router.post("/exceptions/{exception_id}/resolve")
    def resolve_route(exception_id: int, body: ResolveRequest, who: Operator) -> Any:
        return run(resolve, c, exception_id, who.name, body.note)

    @router.post("/exceptions/{exception_id}/edit-retry", status_code=202)
    def edit_route(exception_id: int, body: EditRetryRequest, who: Operator) -> Any:
        return run(edit_and_retry, c, exception_id, body.input, who.name)

    @router.post("/policy/legal-entities", status_code=201)
    def map_route(body: EntityMappingRequest, who: Operator) -> Any:
        mapping = EntityMapping.model_validate(body.model_dump(exclude={"retry_waiting"}))
        return run(map_entity_and_retry, c, mapping, who.name, body.retry_waiting)

    @router.post("/replay", status_code=202)
    def replay_route(body: ReplayRequest, who: Operator) -> Any:
        return run(replay, c, body.correlation_id, who.name, body.workflow_id, body.from_step)

    @router.get("/runs/{workflow_id}/steps")
    def steps_route(workflow_id: str, _: Reader) -> list[dict[str, Any]]:
        return steps_of(workflow_id)

    @router.get("/audit")
    def audit_route(
        _: Reader,
        actor: str | None = None,
        action: str | None = None,
        correlation_id: str | None = None,
        before_id: Annotated[int | None, Query(ge=1)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        from pshub.console.queries import audit_page

        with c.db.session() as s:
            rows = audit_page(s, actor, action, correlation_id, before_id, limit)
            return [_audit_json(r) for r in rows]

    return router


def _audit_json(r: AuditEntry) -> dict[str, Any]:
    return {
        "id": r.id,
        "at": r.at.isoformat(),
        "actor": r.actor,
        "action": r.action,
        "correlation_id": r.correlation_id,
        "entity_type": r.entity_type,
        "entity_id": r.entity_id,
        "system": r.system,
        "system_id": r.system_id,
        "detail": r.detail,
    }


def install_ops(app: FastAPI, c: Container) -> None:
    app.include_router(ops_router(c))
