"""FastAPI application. Routes verify, validate and start flows; they never decide business
rules."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool

from pshub import observability, signing, telemetry
from pshub.api.billing import billing_router
from pshub.api.ops import install_ops
from pshub.api.schemas import (
    ErrorBody,
    ExceptionPublic,
    FlowPublic,
    HopPublic,
    RunPublic,
    WebhookAccepted,
)
from pshub.api.security import Principal, install_security, metrics_guard, require
from pshub.bootstrap import Container
from pshub.console import mount_console
from pshub.domain.money import Money
from pshub.flows import ingest
from pshub.store import repos
from pshub.store.tables import BusinessException, CrossReference


def exception_public(row: BusinessException) -> ExceptionPublic:
    return ExceptionPublic(
        id=row.id,
        flow=row.flow,
        kind=row.kind,
        status=row.status,
        correlation_id=row.correlation_id,
        source_system=row.source_system,
        source_record=row.source_record,
        reason_code=row.reason_code,
        reason=row.reason,
        amount=None
        if row.amount is None or row.currency is None
        else str(Money.of(row.amount, row.currency).rounded().amount),
        currency=row.currency,
        legal_entity=row.legal_entity,
        attempts=row.attempts,
        findings=list(row.findings.get("items", [])),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def create_app(c: Container) -> FastAPI:
    app = FastAPI(
        title="pshub",
        version="0.1.0",
        description="Integration hub for professional-services quote-to-cash",
    )
    telemetry.install_store_collector(lambda: c.db)

    @app.middleware("http")
    async def timing(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        telemetry.HTTP_LATENCY.labels(path, request.method).observe(time.perf_counter() - started)
        return response

    @app.post(
        "/webhooks/salesforce",
        status_code=202,
        response_model=WebhookAccepted,
        responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def salesforce_webhook(request: Request) -> Any:
        body = await request.body()
        # Database and DBOS calls block: run them off the event loop.
        return await run_in_threadpool(_salesforce, c, body, request.headers.get(signing.HEADER))

    @app.get(
        "/flows/{correlation_id:path}",
        response_model=FlowPublic,
        dependencies=[Depends(require("read"))],
    )
    def get_flow(correlation_id: str) -> FlowPublic:
        with c.db.session() as s:
            runs = repos.runs_for(s, correlation_id)
            hops = repos.audit_trail(s, correlation_id)
            if not runs and not hops:
                raise HTTPException(404, f"no flow with correlation id {correlation_id!r}")
            excs = s.scalars(
                select(BusinessException).where(BusinessException.correlation_id == correlation_id)
            ).all()
            entity_ids = {(h.entity_type, h.entity_id) for h in hops if h.entity_id}
            ids: dict[str, dict[str, str]] = {}
            for entity_type, entity_id in entity_ids:
                for xr in s.scalars(
                    select(CrossReference).where(
                        CrossReference.entity_type == entity_type,
                        CrossReference.canonical_id == entity_id,
                    )
                ):
                    ids.setdefault(f"{entity_type}:{entity_id}", {})[xr.system] = xr.system_id
            status = runs[-1].status if runs else "received"
            return FlowPublic(
                correlation_id=correlation_id,
                status=status,
                runs=[
                    RunPublic(
                        workflow_id=r.workflow_id,
                        flow=r.flow,
                        status=r.status,
                        attempt=r.attempt,
                        started_at=r.started_at,
                        finished_at=r.finished_at,
                        result=r.result,
                    )
                    for r in runs
                ],
                system_ids=ids,
                hops=[
                    HopPublic(
                        at=h.at,
                        action=h.action,
                        actor=h.actor,
                        system=h.system,
                        system_id=h.system_id,
                        entity_type=h.entity_type,
                        entity_id=h.entity_id,
                        detail=h.detail,
                    )
                    for h in hops
                ],
                exceptions=[exception_public(e) for e in excs],
            )

    @app.get(
        "/exceptions",
        response_model=list[ExceptionPublic],
        dependencies=[Depends(require("read"))],
    )
    def list_exceptions(
        status: Annotated[str | None, Query(pattern="^(open|retrying|resolved)$")] = "open",
        flow: str | None = None,
        reason: str | None = None,
        entity: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[ExceptionPublic]:
        with c.db.session() as s:
            rows = repos.list_exceptions(
                s,
                status=status,
                flow=flow,
                reason_code=reason,
                legal_entity=entity,
                limit=limit,
                offset=offset,
            )
            return [exception_public(r) for r in rows]

    @app.get(
        "/exceptions/{exception_id}",
        response_model=ExceptionPublic,
        dependencies=[Depends(require("read"))],
    )
    def get_exception(exception_id: int) -> ExceptionPublic:
        with c.db.session() as s:
            row = repos.get_exception(s, exception_id)
            if row is None:
                raise HTTPException(404, f"exception {exception_id} does not exist")
            return exception_public(row)

    @app.post("/exceptions/{exception_id}/retry", status_code=202)
    def retry_exception(
        exception_id: int, who: Annotated[Principal, Depends(require("operate"))]
    ) -> dict[str, Any]:
        try:
            return ingest.retry_exception(c, exception_id, actor=who.name)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        with c.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": c.db.engine.dialect.name}

    @app.get("/metrics", dependencies=[Depends(metrics_guard)])
    def metrics() -> Response:
        return Response(generate_latest(telemetry.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    # Console, access control, operator actions and telemetry (pshub.console, api.security,
    # api.ops, observability): /webhooks, /healthz and /metrics stay without user auth.
    observability.install(app, c)
    install_security(app, c)
    install_ops(app, c)
    app.include_router(billing_router(c))
    mount_console(app, c)
    return app


def _salesforce(c: Container, body: bytes, signature: str | None) -> Any:
    try:
        signing.verify(
            c.settings.webhook_secret,
            signature,
            body,
            time.time(),
            c.settings.webhook_tolerance_seconds,
        )
    except signing.SignatureError as exc:
        inbox_id = ingest.reject(c, body, f"signature: {exc}")
        telemetry.WEBHOOKS.labels("salesforce", "unauthorized").inc()
        return _error(401, "unauthorized", signing.HEADER, str(exc), inbox_id)
    try:
        event = ingest.parse_salesforce(body)
    except ingest.EventRejected as exc:
        inbox_id = ingest.reject(c, body, str(exc))
        telemetry.WEBHOOKS.labels("salesforce", "rejected").inc()
        return _error(422, "invalid_event", exc.field, exc.reason, inbox_id)
    accepted = ingest.accept_salesforce(c, body, event)
    outcome = "duplicate" if accepted.duplicate else "accepted"
    telemetry.WEBHOOKS.labels("salesforce", outcome).inc()
    return WebhookAccepted(
        status=outcome,
        inbox_id=accepted.inbox_id,
        correlation_id=accepted.correlation_id,
        workflow_ids=accepted.workflow_ids,
    )


def _error(
    status: int, error: str, field: str | None, reason: str, inbox_id: int | None
) -> JSONResponse:
    body = ErrorBody(error=error, field=field, reason=reason, inbox_id=inbox_id)
    return JSONResponse(body.model_dump(), status_code=status)
