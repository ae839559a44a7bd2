"""NetSuite REST web services (SuiteTalk REST) sandbox: the record service under TBA.

Routes (all under ``/services/rest/record/v1``, every request signed with OAuth 1.0a
HMAC-SHA256 token-based authentication, see :mod:`.oauth`):

- ``GET    /{type}?limit=&offset=&q=``   collection page (Help: "Collection Paging",
  "Record Collection Filtering"); ``limit`` 1..1000, ``offset`` a multiple of ``limit``
- ``POST   /{type}``                     create: 204 No Content + ``Location``
- ``GET    /{type}/{id}`` or ``/{type}/eid:{externalId}``   the record
- ``PATCH  /{type}/{id|eid:...}``        update: 204 + ``Location``
- ``PUT    /{type}/eid:{externalId}``    upsert (Help: "Using the Upsert Operation"): 204
- ``DELETE /{type}/{id|eid:...}``        204

The account's concurrency limit (Help: "Web Services and RESTlet Concurrency Governance")
is make_app's ``concurrency_limit`` fault, kept across ``/_sandbox/reset``; requests beyond
it get 429 CONCURRENCY_LIMIT_EXCEEDED at once. ``GET /_sandbox/auth`` counts refused logins.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pshub.sandboxes.base import FaultSettings, SandboxState, make_app
from pshub.sandboxes.netsuite.entities import (
    DEFAULT_CURRENCY_IDS,
    DEFAULT_SUBSIDIARIES,
    currency_records,
    subsidiary_records,
)
from pshub.sandboxes.netsuite.errors import (
    INVALID_LOGIN_DETAIL,
    NsError,
    error_response,
    fault_response,
)
from pshub.sandboxes.netsuite.oauth import AuthError, Integration, TbaVerifier
from pshub.sandboxes.netsuite.records import REGISTRY, RecordType
from pshub.sandboxes.netsuite.store import MAX_PAGE, RecordStore

PREFIX = "/services/rest/record/v1"
_MEDIA = "application/vnd.oracle.resource+json; type={}"


def create_app(
    state: SandboxState,
    *,
    account_id: str,
    consumer_key: str,
    consumer_secret: str,
    token_id: str,
    token_secret: str,
    concurrency_limit: int = 5,
    seed: int = 0,
    subsidiaries: list[dict[str, str]] | None = None,
    currencies: dict[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The NetSuite sandbox for one account and one integration token.

    ``subsidiaries``: ``[{"id", "name", "currency": ISO code, "country"?}]`` (default
    :data:`DEFAULT_SUBSIDIARIES`); ``currencies``: ISO code -> internal id (default
    :data:`DEFAULT_CURRENCY_IDS`).
    """
    app = make_app(f"NetSuite sandbox ({account_id})", state, fault_response, seed=seed)
    _keep_account_limit(app, concurrency_limit)
    store = RecordStore(state, clock)
    currency_ids = dict(currencies or DEFAULT_CURRENCY_IDS)
    store.seed(REGISTRY["currency"], currency_records(currency_ids))
    store.seed(
        REGISTRY["subsidiary"],
        subsidiary_records(subsidiaries or DEFAULT_SUBSIDIARIES, currency_ids),
    )
    verifier = TbaVerifier(
        account_id, Integration(consumer_key, consumer_secret, token_id, token_secret), clock=clock
    )
    refused: Counter[str] = Counter()
    app.state.auth_refused = refused

    @app.exception_handler(NsError)
    async def ns_error(_request: Request, exc: NsError) -> Response:
        return error_response(exc)

    def authenticate(request: Request) -> None:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        try:
            verifier.verify(
                request.method,
                request.url.scheme,
                request.headers.get("host", request.url.netloc),
                raw_path.decode("latin-1"),
                request.scope.get("query_string", b"").decode("latin-1"),
                request.headers.get("authorization"),
            )
        except AuthError as exc:
            refused[exc.reason] += 1
            raise NsError.one(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL) from exc

    @app.get("/_sandbox/auth")
    def auth_stats() -> dict[str, Any]:
        return {"refused": dict(refused), "total": sum(refused.values())}

    app.include_router(_record_routes(store), dependencies=[Depends(authenticate)])
    return app


def _keep_account_limit(app: FastAPI, limit: int) -> None:
    """The concurrency limit is the account's, not an injected fault: it survives a reset."""
    faults = app.state.faults
    faults.settings = FaultSettings(concurrency_limit=limit)
    reset = faults.reset

    def reset_keeping_limit() -> None:
        reset()
        faults.settings = FaultSettings(concurrency_limit=limit)

    faults.reset = reset_keeping_limit


def _record_routes(store: RecordStore) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    @router.get("/{rtype}")
    def list_records(rtype: str, request: Request) -> Response:
        kind = _type(rtype)
        limit, offset = _paging(request)
        body = store.page(
            kind, _base(request), limit=limit, offset=offset, q=request.query_params.get("q")
        )
        return JSONResponse(body, media_type=_MEDIA.format("collection"))

    @router.post("/{rtype}")
    async def create(rtype: str, request: Request) -> Response:
        kind = _writable(rtype)
        rid = await run_in_threadpool(store.write, kind, await _json(request))
        return _no_content(request, kind, rid)

    @router.get("/{rtype}/{key}")
    def read(rtype: str, key: str, request: Request) -> Response:
        kind = _type(rtype)
        body = store.render(kind, store.resolve(kind, key), _base(request))
        return JSONResponse(body, media_type=_MEDIA.format("singular-resource"))

    @router.patch("/{rtype}/{key}")
    async def update(rtype: str, key: str, request: Request) -> Response:
        kind = _writable(rtype)
        body = await _json(request)
        rid = await run_in_threadpool(lambda: store.write(kind, body, store.resolve(kind, key)))
        return _no_content(request, kind, rid)

    @router.put("/{rtype}/{key}")
    async def upsert(rtype: str, key: str, request: Request) -> Response:
        kind = _writable(rtype)
        if not key.startswith("eid:") or len(key) == 4:
            raise NsError.one(
                400,
                "INVALID_ID",
                "The upsert operation requires an external "
                "ID in the request URL: PUT /{type}/eid:{externalId}.",
                url_path=key,
            )
        body = await _json(request)
        rid, _created = await run_in_threadpool(store.upsert, kind, key[4:], body)
        return _no_content(request, kind, rid)

    @router.delete("/{rtype}/{key}")
    def delete(rtype: str, key: str) -> Response:
        kind = _writable(rtype)
        store.delete(kind, store.resolve(kind, key))
        return Response(status_code=204)

    return router


def _type(name: str) -> RecordType:
    kind = REGISTRY.get(name)
    if kind is None:
        raise NsError.one(
            404, "INVALID_RECORD_TYPE", f"Record type '{name}' does not exist.", url_path=name
        )
    return kind


def _writable(name: str) -> RecordType:
    kind = _type(name)
    if kind.read_only:
        raise NsError.one(
            403,
            "INSUFFICIENT_PERMISSION",
            f"Records of type '{name}' are read-only for this integration role.",
            url_path=name,
        )
    return kind


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _no_content(request: Request, kind: RecordType, rid: str) -> Response:
    return Response(status_code=204, headers={"Location": f"{_base(request)}/{kind.name}/{rid}"})


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise NsError.one(400, "INVALID_CONTENT", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise NsError.one(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    return body


def _paging(request: Request) -> tuple[int, int]:
    values = []
    for name, default, low, high in (("limit", MAX_PAGE, 1, MAX_PAGE), ("offset", 0, 0, None)):
        raw = request.query_params.get(name, str(default))
        if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
            raise NsError.one(
                400,
                "INVALID_PARAMETER",
                f"Invalid value '{raw}' for query parameter {name}.",
                query_param=name,
            )
        values.append(int(raw))
    limit, offset = values
    if offset % limit:
        raise NsError.one(
            400,
            "INVALID_PARAMETER",
            "The offset must be a multiple of the limit.",
            query_param="offset",
        )
    return limit, offset
