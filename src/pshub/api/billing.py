"""Billing operations API: billing holds, billing runs and the state of time-to-bill."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from pshub.api.security import Principal, require
from pshub.bootstrap import Container
from pshub.flows import time_to_bill
from pshub.store import billing as repo
from pshub.store import repos

Viewer = Annotated[Principal, Depends(require("read"))]
Operator = Annotated[Principal, Depends(require("operate"))]


class HoldCreate(BaseModel):
    scope: Literal["project", "entry"]
    target: str = Field(min_length=1, description="PSA project id, or '<kind>:<source id>'")
    reason: str = Field(min_length=3)


class HoldPublic(BaseModel):
    id: int
    scope: str
    target: str
    reason: str
    set_by: str
    set_at: datetime
    lifted_at: datetime | None


class RunCreate(BaseModel):
    as_of: datetime | None = Field(None, description="business instant; default: now (UTC)")
    wait: bool = False


def billing_router(c: Container) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["billing"])

    @router.post("/holds", status_code=201, response_model=HoldPublic)
    def set_hold(body: HoldCreate, who: Operator) -> HoldPublic:
        if body.scope == "entry" and ":" not in body.target:
            raise HTTPException(422, "target: an entry hold names '<kind>:<source id>'")
        with c.db.session() as s:
            hold = repo.set_hold(s, body.scope, body.target, body.reason, who.name)
            repos.audit(
                s,
                action="billing.hold.set",
                actor=who.name,
                entity_type=body.scope,
                entity_id=body.target,
                reason=body.reason,
            )
            return _hold(hold)

    @router.delete("/holds/{scope}/{target:path}", status_code=200)
    def lift_hold(scope: Literal["project", "entry"], target: str, who: Operator) -> dict[str, Any]:
        with c.db.session() as s:
            if not repo.lift_hold(s, scope, target, who.name):
                raise HTTPException(404, f"no active {scope} hold on {target!r}")
            repos.audit(
                s, action="billing.hold.lifted", actor=who.name, entity_type=scope, entity_id=target
            )
        return {"lifted": True, "scope": scope, "target": target}

    @router.get("/holds", response_model=list[HoldPublic])
    def list_holds(_: Viewer) -> list[HoldPublic]:
        from sqlalchemy import select

        from pshub.store.tables import BillingHold

        with c.db.session() as s:
            return [
                _hold(h)
                for h in s.scalars(
                    select(BillingHold)
                    .where(BillingHold.lifted_at.is_(None))
                    .order_by(BillingHold.id)
                )
            ]

    @router.post("/runs", status_code=202)
    def start_run(body: RunCreate, who: Operator) -> dict[str, Any]:
        as_of = body.as_of or datetime.now(UTC)
        if as_of.tzinfo is None:
            raise HTTPException(422, "as_of: give a timezone (instants are UTC)")
        run_id = f"api-{as_of:%Y%m%dT%H%M%S%f}"
        workflow_id = time_to_bill.start(
            time_to_bill.BillingRunInput(
                run_id=run_id, as_of=as_of, patience_seconds=c.settings.outage_patience_seconds
            )
        )
        with c.db.session() as s:
            repos.audit(
                s,
                action="billing.run.started",
                actor=who.name,
                run_id=run_id,
                workflow_id=workflow_id,
                as_of=as_of.isoformat(),
            )
        return {"run_id": run_id, "workflow_id": workflow_id}

    @router.get("/summary")
    def summary(_: Viewer) -> dict[str, Any]:
        with c.db.session() as s:
            return {
                "work_items": repo.count_items(s),
                "holds": len(repo.active_holds(s)),
                "lines_refused": repo.refused_lines(s),
            }

    return router


def _hold(h: Any) -> HoldPublic:
    return HoldPublic(
        id=h.id,
        scope=h.scope,
        target=h.target,
        reason=h.reason,
        set_by=h.set_by,
        set_at=h.set_at,
        lifted_at=h.lifted_at,
    )
