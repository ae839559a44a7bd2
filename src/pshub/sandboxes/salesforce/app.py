"""A faithful local stand-in for the Salesforce REST API (Account, Opportunity, line items).

Followed from the Salesforce REST API Developer Guide (developer.salesforce.com/docs/
atlas.en-us.api_rest.meta): ``/services/data/vXX.X/`` resources "sObject Basic Information",
"sObject Describe", "sObject Rows" (create 201 ``{id, success, errors}``, update/delete 204),
"sObject Rows by External ID" (upsert), "Query" / "Query More Results" (``totalSize``, ``done``,
``nextRecordsUrl`` = ``/services/data/vXX.X/query/<locator>-<offset>``, the
``Sforce-Query-Options: batchSize=N`` header, 200..2000, default 2000), "Limits"
(``DailyApiRequests``, 403 ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded.", the
``Sforce-Limit-Info: api-usage=n/max`` response header) and "Status Codes and Error Responses"
(errors are a JSON array of ``{message, errorCode, fields}``). OAuth is in :mod:`.auth`, SOQL in
:mod:`.soql` and :mod:`.query`, change events in :mod:`.events`.

Admin routes, besides those of :func:`pshub.sandboxes.base.make_app`:
``PUT /_sandbox/notify`` ``{url, secret}``, ``GET /_sandbox/events``,
``POST /_sandbox/events/{replayId}/redeliver``, ``POST /_sandbox/sessions/expire``,
``GET``/``PUT /_sandbox/limits`` ``{"daily_api_limit": n}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pshub.sandboxes.base import SandboxState, make_app
from pshub.sandboxes.salesforce.auth import OAuthError, Sessions
from pshub.sandboxes.salesforce.events import ChangeEvents, change_origin
from pshub.sandboxes.salesforce.query import Cursors, add_query_routes
from pshub.sandboxes.salesforce.records import Records, resolve
from pshub.sandboxes.salesforce.schema import SalesforceApiError
from pshub.sandboxes.salesforce.wire import error_response, fault_response, json_response

_VERSION = re.compile(r"^\d{2}\.0$")


class _Api:
    """Per-app state the routes share."""

    def __init__(
        self, state: SandboxState, sessions: Sessions, events: ChangeEvents, daily_api_limit: int
    ) -> None:
        self.state = state
        self.sessions = sessions
        self.events = events
        self.records = Records(state, events.on_change)
        self.daily_api_limit = daily_api_limit

    def count_request(self) -> int:
        """Count one API call against today's (UTC) allowance; return the count so far."""
        day = str(dt.datetime.now(dt.UTC).date())
        with self.state.transaction():
            doc = self.state.get("_api_usage", day) or {"used": 0}
            doc["used"] += 1
            self.state.put("_api_usage", day, doc)
        return int(doc["used"])

    def used_today(self) -> int:
        doc = self.state.get("_api_usage", str(dt.datetime.now(dt.UTC).date()))
        return int(doc["used"]) if doc else 0


def create_app(
    state: SandboxState,
    *,
    client_id: str,
    client_secret: str,
    notify_url: str | None = None,
    notify_secret: str = "",
    daily_api_limit: int = 1_000_000,
    seed: int = 0,
) -> FastAPI:
    """The Salesforce sandbox app; serve it over HTTPS (simple-salesforce speaks https only)."""
    app = make_app("Salesforce sandbox", state, fault_response, seed=seed)
    events = ChangeEvents(state, notify_url, notify_secret)
    api = _Api(state, Sessions(client_id, client_secret), events, daily_api_limit)
    app.state.salesforce = api

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        events.start()  # pending events from before a restart are sent again
        try:
            yield
        finally:
            await run_in_threadpool(events.stop)

    app.router.lifespan_context = lifespan
    _install_handlers(app)
    _install_usage_header(app)
    _add_oauth(app, api)
    app.include_router(_data_router(api))
    _add_admin(app, api)
    return app


def _install_handlers(app: FastAPI) -> None:
    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SalesforceApiError)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/_sandbox"):
            return JSONResponse({"detail": exc.detail}, exc.status_code)
        if exc.status_code == 405:
            error = SalesforceApiError(
                405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed."
            )
        else:
            error = SalesforceApiError(
                exc.status_code, "NOT_FOUND", "The requested resource does not exist"
            )
        return error_response(error)

    app.add_exception_handler(SalesforceApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _install_usage_header(app: FastAPI) -> None:
    @app.middleware("http")
    async def usage(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        used = getattr(request.state, "api_usage", None)
        if used is not None:
            response.headers["Sforce-Limit-Info"] = f"api-usage={used[0]}/{used[1]}"
        return response


def _add_oauth(app: FastAPI, api: _Api) -> None:
    @app.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        instance = f"{request.url.scheme}://{request.url.netloc}"
        try:
            body = api.sessions.token(
                await request.body(), request.headers.get("authorization"), instance
            )
        except OAuthError as exc:
            return JSONResponse(exc.body(), 400)
        return JSONResponse(body)

    @app.get("/services/data")
    def versions() -> list[dict[str, str]]:
        return [
            {"label": f"v{v}.0", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            for v in range(20, 63)
        ]


def _guard(api: _Api) -> Any:
    def guard(request: Request, version: str) -> None:
        if not _VERSION.match(version):
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        api.sessions.check(request.headers.get("authorization"))
        used = api.count_request()
        request.state.api_usage = (used, api.daily_api_limit)
        if used > api.daily_api_limit:
            raise SalesforceApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")

    return guard


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}", parse_float=Decimal)
    except ValueError as exc:
        raise SalesforceApiError(
            400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
        ) from exc


def _origin(request: Request, version: str) -> None:
    options = request.headers.get("sforce-call-options", "")
    client = re.search(r"client=([^,;\s]+)", options)
    suffix = f";client={client.group(1)}" if client else ""
    change_origin.set(f"com/salesforce/api/rest/{version}{suffix}")


def _data_router(api: _Api) -> APIRouter:
    router = APIRouter(prefix="/services/data/v{version}", dependencies=[Depends(_guard(api))])
    records = api.records

    @router.get("/limits")
    def limits() -> Response:
        used = api.used_today()
        return json_response(
            {
                "DailyApiRequests": {
                    "Max": api.daily_api_limit,
                    "Remaining": max(0, api.daily_api_limit - used),
                }
            }
        )

    @router.get("/sobjects/{name}")
    def basic_info(name: str, version: str) -> Response:
        obj = resolve(name)
        base = f"/services/data/v{version}/sobjects/{obj.name}"
        return json_response(
            {
                "objectDescribe": {
                    "name": obj.name,
                    "label": obj.name,
                    "keyPrefix": obj.prefix,
                    "createable": True,
                    "urls": {
                        "sobject": base,
                        "describe": f"{base}/describe",
                        "rowTemplate": f"{base}/{{ID}}",
                    },
                },
                "recentItems": [],
            }
        )

    @router.get("/sobjects/{name}/describe")
    def describe(name: str) -> Response:
        obj = resolve(name)
        fields = [
            {
                "name": f.name,
                "type": f.type,
                "createable": f.writable,
                "updateable": f.writable,
                "nillable": not f.required,
                "externalId": f.external_id,
                "idLookup": f.external_id or f.name == "Id",
                "referenceTo": [f.reference_to] if f.reference_to else [],
            }
            for f in obj.fields
        ]
        return json_response(
            {
                "name": obj.name,
                "label": obj.name,
                "keyPrefix": obj.prefix,
                "createable": True,
                "updateable": True,
                "fields": fields,
            }
        )

    @router.post("/sobjects/{name}", status_code=201)
    async def create(name: str, version: str, request: Request) -> Response:
        obj = resolve(name)
        body = await _body(request)
        _origin(request, version)
        record = await run_in_threadpool(records.create, obj, body)
        return json_response(
            {"id": record["Id"], "success": True, "errors": []},
            201,
            {"Location": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"},
        )

    @router.get("/sobjects/{name}/{record_id}")
    def get(name: str, record_id: str, version: str, fields: str | None = None) -> Response:
        obj = resolve(name)
        wanted = [f.strip() for f in fields.split(",")] if fields else None
        return json_response(records.render(obj, records.get(obj, record_id), version, wanted))

    @router.patch("/sobjects/{name}/{record_id}")
    async def update(name: str, record_id: str, version: str, request: Request) -> Response:
        obj = resolve(name)
        body = await _body(request)
        _origin(request, version)
        await run_in_threadpool(records.update, obj, record_id, body)
        return Response(status_code=204)

    @router.delete("/sobjects/{name}/{record_id}")
    def delete(name: str, record_id: str) -> Response:
        records.delete(resolve(name), record_id)
        return Response(status_code=204)

    @router.get("/sobjects/{name}/{field}/{value}")
    def get_by_external_id(name: str, field: str, value: str, version: str) -> Response:
        obj = resolve(name)
        fdef = obj.field(field)
        found = [
            r
            for r in records.rows(obj)
            if fdef is not None
            and fdef.external_id
            and str(r.get(fdef.name) or "").lower() == value.lower()
        ]
        if not found:
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return json_response(records.render(obj, found[0], version))

    @router.patch("/sobjects/{name}/{field}/{value}")
    async def upsert(name: str, field: str, value: str, version: str, request: Request) -> Response:
        obj = resolve(name)
        body = await _body(request)
        _origin(request, version)
        created, record = await run_in_threadpool(records.upsert, obj, field, value, body)
        result: dict[str, Any] = {"id": record["Id"], "success": True, "errors": []}
        modern = float(version) >= 46.0  # "created" and the 200-on-update body since 46.0
        if modern:
            result["created"] = created
        if created:
            return json_response(result, 201)
        return json_response(result, 200) if modern else Response(status_code=204)

    cursors = Cursors(api.state)
    for path, deleted in (("query", False), ("queryAll", True)):
        add_query_routes(router, api.records, cursors, path, deleted)
    return router


def _add_admin(app: FastAPI, api: _Api) -> None:
    @app.put("/_sandbox/notify")
    def set_notify(body: dict[str, Any]) -> dict[str, Any]:
        api.events.set_target(body.get("url"), str(body.get("secret", "")))
        return {"url": api.events.url}

    @app.get("/_sandbox/events")
    def list_events() -> list[dict[str, Any]]:
        return api.events.all()

    @app.post("/_sandbox/events/{replay_id}/redeliver")
    def redeliver(replay_id: int) -> dict[str, Any]:
        result = api.events.redeliver(replay_id)
        if result is None:
            raise StarletteHTTPException(404, f"no event with replayId {replay_id}")
        return result

    @app.post("/_sandbox/sessions/expire")
    def expire_sessions() -> dict[str, int]:
        return {"expired": api.sessions.expire_all()}

    @app.get("/_sandbox/limits")
    def get_limits() -> dict[str, int]:
        return {"daily_api_limit": api.daily_api_limit, "used_today": api.used_today()}

    @app.put("/_sandbox/limits")
    def put_limits(body: dict[str, int]) -> dict[str, int]:
        api.daily_api_limit = int(body["daily_api_limit"])
        return {"daily_api_limit": api.daily_api_limit, "used_today": api.used_today()}
