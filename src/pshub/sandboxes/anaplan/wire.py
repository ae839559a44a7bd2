"""Anaplan wire shapes: the ``meta``/``status`` envelope, paging, and the error bodies.

Followed from the Integration API v2 OpenAPI description (``Meta``, ``Paging``, ``Status``,
``ErrorResponse``: ``{"status": {"code", "message"}, "path", "timestamp"}``) and the
Authentication API description (``{"status": "FAILURE_BAD_CREDENTIAL", "statusMessage"}``).
Status codes follow https://help.anaplan.com/troubleshooting-api-usage-721d3176-a64b-469d-9781-27315a474919
(409 Conflict: "Model or object busy, conflicting action"). Faults injected by ``make_app``
(outage 503, error 500, 429) use the integration error shape, with ``Retry-After`` in seconds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

API_ROOT = "/2/0"
SUCCESS = {"code": 200, "message": "Success"}


class AnaplanError(Exception):
    """Raised in an integration route; rendered as ``ErrorResponse`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class AuthError(Exception):
    """Raised in an authentication route; rendered in the auth service's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> AnaplanError:
    return AnaplanError(404, f"Not Found: {what}")


def bad_request(message: str) -> AnaplanError:
    return AnaplanError(400, message)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_body(status: int, message: str, path: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": {"code": status, "message": message}, "timestamp": now_iso()}
    if path:
        body["path"] = path
    return body


def render(error: AnaplanError, path: str) -> JSONResponse:
    return JSONResponse(
        error_body(error.status, error.message, path),
        status_code=error.status,
        headers=error.headers,
    )


def render_auth(error: AuthError) -> JSONResponse:
    body = {"status": error.code, "statusMessage": error.message}
    return JSONResponse(body, status_code=error.status)


def fault_response(kind: str, status: int, message: str, retry_after: float | None) -> JSONResponse:
    """The ``make_app`` ErrorFactory: an injected fault in the integration error shape."""
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


def schema_url(request: Request, obj: str, model_id: str | None = None) -> str:
    """The ``meta.schema`` URL Anaplan puts on every answer (``…/objects/<type>``)."""
    base = f"{str(request.base_url).rstrip('/')}{API_ROOT}"
    return f"{base}/models/{model_id}/objects/{obj}" if model_id else f"{base}/objects/{obj}"


def envelope(
    request: Request, obj: str, model_id: str | None = None, **payload: Any
) -> dict[str, Any]:
    """``{"meta": {"schema"}, "status": {...}, **payload}`` for a single object."""
    return {"meta": {"schema": schema_url(request, obj, model_id)}, "status": SUCCESS, **payload}


def page(
    request: Request,
    obj: str,
    key: str,
    items: list[dict[str, Any]],
    model_id: str | None = None,
) -> dict[str, Any]:
    """A listing with ``meta.paging`` from the ``offset`` and ``limit`` query parameters."""
    offset = _int_param(request, "offset", 0)
    limit = _int_param(request, "limit", 5000)
    chosen = items[offset : offset + limit]
    paging: dict[str, Any] = {
        "currentPageSize": len(chosen),
        "totalSize": len(items),
        "offset": offset,
    }
    url = request.url.remove_query_params(["offset", "limit"])
    if offset + limit < len(items):
        paging["next"] = str(url.include_query_params(limit=limit, offset=offset + limit))
    if offset > 0:
        paging["previous"] = str(
            url.include_query_params(limit=limit, offset=max(0, offset - limit))
        )
    meta = {"schema": schema_url(request, obj, model_id), "paging": paging}
    return {"meta": meta, "status": SUCCESS, key: chosen}


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f"Invalid value for {name}: {raw}") from exc
    if value < 0 or (name == "limit" and value == 0):
        raise bad_request(f"Invalid value for {name}: {raw}")
    return value
