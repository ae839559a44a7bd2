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

Writes sent with ``Prefer: respond-async`` (one record, or a batch of up to 100 with
``Content-Type: application/vnd.oracle.resource+json; type=collection``) become async jobs
under ``/services/rest/async/v1`` (see :mod:`.asyncjobs`). ``GET /{type}/{id}`` expands
sublists with ``?expandSubResources=true``. ``POST /_sandbox/periods/{id}`` with
``{"closed": true}`` closes an accounting period (NetSuite: Manage Accounting Periods).

The account's concurrency limit (Help: "Web Services and RESTlet Concurrency Governance")
is make_app's ``concurrency_limit`` fault, kept across ``/_sandbox/reset``; requests beyond
it get 429 CONCURRENCY_LIMIT_EXCEEDED at once. ``GET /_sandbox/auth`` counts refused logins.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from pshub.sandboxes.base import FaultSettings, SandboxState, make_app
from pshub.sandboxes.netsuite import billing, sales_orders, transactions  # noqa: F401 - register types
from pshub.sandboxes.netsuite.asyncjobs import (
    MAX_BATCH,
    JobRunner,
    Operation,
    accepted,
    async_routes,
    duplicate,
)
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
from pshub.sandboxes.netsuite.ledger import list_seeds
from pshub.sandboxes.netsuite.oauth import AuthError, Integration, TbaVerifier
from pshub.sandboxes.netsuite.records import REGISTRY, RecordType
from pshub.sandboxes.netsuite.store import MAX_PAGE, RecordStore
from pshub.sandboxes.netsuite.wirejson import ExactJSONResponse, loads

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
    async_processors: int = 5,
) -> FastAPI:
    """The NetSuite sandbox for one account and one integration token.

    ``subsidiaries``: ``[{"id", "name", "currency": ISO code, "country"?}]`` (default
    :data:`DEFAULT_SUBSIDIARIES`); ``currencies``: ISO code -> internal id (default
    :data:`DEFAULT_CURRENCY_IDS`); ``async_processors``: async jobs run at once (NetSuite sizes
    its REST async processors by SuiteCloud Plus licences).
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
    for list_name, seeds in list_seeds().items():
        store.seed(REGISTRY[list_name], seeds)
    runner = JobRunner(async_processors, store.batch)
    app.state.async_runner = runner
    verifier = TbaVerifier(
        account_id, Integration(consumer_key, consumer_secret, token_id, token_secret), clock=clock
    )
    refused: Counter[str] = Counter()
    app.state.auth_refused = refused

    @app.exception_handler(NsError)
    async def ns_error(_request: Request, exc: NsError) -> Response:
        return error_response(exc)

    async def authenticate(request: Request) -> None:
        # A coroutine: a signature check is CPU only, and a sync dependency would cost every
        # request a hop to the thread pool and back.
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

    @app.post("/_sandbox/periods/{period_id}")
    def set_period(period_id: str, body: dict[str, bool]) -> dict[str, Any]:
        period = store.resolve(REGISTRY["accountingPeriod"], period_id)
        period.update({k: bool(v) for k, v in body.items() if k in ("closed", "allLocked")})
        store.replace("accountingPeriod", period)
        return period

    app.include_router(_record_routes(store, runner), dependencies=[Depends(authenticate)])
    app.include_router(async_routes(runner), dependencies=[Depends(authenticate)])
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


def _record_routes(store: RecordStore, runner: JobRunner) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    def later(
        request: Request, operations: list[Operation], prepare: Callable[[], None] | None = None
    ) -> Response:
        key = request.headers.get("x-netsuite-idempotency-key")
        job, new = runner.submit(operations, key, prepare)
        root = str(request.base_url).rstrip("/")
        return accepted(root, job) if new else duplicate(root, job)

    def href(request: Request, kind: RecordType, rid: str) -> str:
        return f"{_base(request)}/{kind.name}/{rid}"

    @router.get("/{rtype}")
    def list_records(rtype: str, request: Request) -> Response:
        kind = _type(rtype)
        limit, offset = _paging(request)
        body = store.page(
            kind, _base(request), limit=limit, offset=offset, q=request.query_params.get("q")
        )
        return ExactJSONResponse(body, media_type=_MEDIA.format("collection"))

    @router.post("/{rtype}")
    async def create(rtype: str, request: Request) -> Response:
        kind = _writable(rtype)
        body = await _json(request)
        if _is_batch(request):
            return later(request, _batch(kind, "POST", body, request, store))
        record = _object(body)
        if _wants_async(request):
            return later(request, [lambda: href(request, kind, store.write(kind, record))])
        rid = await run_in_threadpool(store.write, kind, record)
        return _no_content(request, kind, rid)

    @router.put("/{rtype}")
    async def upsert_batch(rtype: str, request: Request) -> Response:
        kind = _writable(rtype)
        body = await _json(request)
        operations = _batch(kind, "PUT", body, request, store)
        eids = [item.get("externalId") for item in body["items"]]
        return later(request, operations, lambda: store.prefetch(kind, eids))

    @router.patch("/{rtype}")
    async def update_batch(rtype: str, request: Request) -> Response:
        kind = _writable(rtype)
        return later(request, _batch(kind, "PATCH", await _json(request), request, store))

    @router.get("/{rtype}/{key}")
    def read(rtype: str, key: str, request: Request) -> Response:
        kind = _type(rtype)
        expand = request.query_params.get("expandSubResources", "").lower() == "true"
        body = store.render(kind, store.resolve(kind, key), _base(request), expand=expand)
        return ExactJSONResponse(body, media_type=_MEDIA.format("singular-resource"))

    @router.patch("/{rtype}/{key}")
    async def update(rtype: str, key: str, request: Request) -> Response:
        kind = _writable(rtype)
        body = _object(await _json(request))

        def write() -> str:
            return store.write(kind, body, store.resolve(kind, key))

        if _wants_async(request):
            return later(request, [lambda: href(request, kind, write())])
        return _no_content(request, kind, await run_in_threadpool(write))

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
        body = _object(await _json(request))

        def write() -> str:
            return store.upsert(kind, key[4:], body)[0]

        if _wants_async(request):
            return later(request, [lambda: href(request, kind, write())])
        return _no_content(request, kind, await run_in_threadpool(write))

    @router.delete("/{rtype}/{key}")
    def delete(rtype: str, key: str) -> Response:
        kind = _writable(rtype)
        store.delete(kind, store.resolve(kind, key))
        return Response(status_code=204)

    return router


def _wants_async(request: Request) -> bool:
    return "respond-async" in request.headers.get("prefer", "").lower()


def _is_batch(request: Request) -> bool:
    return "type=collection" in request.headers.get("content-type", "").replace(" ", "")


def _batch(
    kind: RecordType, method: str, body: Any, request: Request, store: RecordStore
) -> list[Operation]:
    """One operation per item of a batch body; each fails or succeeds on its own."""
    items = body.get("items") if isinstance(body, dict) else None
    if not _wants_async(request):
        raise NsError.one(
            400,
            "INVALID_HEADER",
            "Batch operations are executed asynchronously: send the header Prefer: respond-async.",
        )
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise NsError.one(
            400, "INVALID_CONTENT", 'A batch body is {"items": [record, ...]}.', path="items"
        )
    if len(items) > MAX_BATCH:
        raise NsError.one(
            400,
            "INVALID_CONTENT",
            f"A batch request can contain at most {MAX_BATCH} records; it has {len(items)}.",
            path="items",
        )
    base = _base(request)
    return [_item_operation(kind, method, dict(item), base, store) for item in items]


def _item_operation(
    kind: RecordType, method: str, item: dict[str, Any], base: str, store: RecordStore
) -> Operation:
    def run() -> str:
        if method == "POST":
            rid = store.write(kind, item)
        elif method == "PUT":
            eid = item.get("externalId")
            if not isinstance(eid, str) or not eid:
                raise NsError.one(
                    400,
                    "INVALID_CONTENT",
                    "Each record of a batch upsert needs its externalId.",
                    path="externalId",
                )
            rid = store.upsert(kind, eid, item)[0]
        else:
            ident = item.pop("id", None)
            key = str(ident) if ident is not None else f"eid:{item.get('externalId', '')}"
            rid = store.write(kind, item, store.resolve(kind, key))
        return f"{base}/{kind.name}/{rid}"

    return run


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


async def _json(request: Request) -> Any:
    try:
        return loads(await request.body() or b"{}")
    except ValueError as exc:
        raise NsError.one(400, "INVALID_CONTENT", "The request body is not valid JSON.") from exc


def _object(body: Any) -> dict[str, Any]:
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
