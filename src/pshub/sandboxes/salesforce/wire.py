"""JSON on the wire: numbers written exactly from Decimal (never through float)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Response

from pshub.sandboxes.salesforce.schema import SalesforceApiError


def dumps(value: Any) -> str:
    """JSON text where Decimals are plain JSON numbers with all their digits."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        dumps(value),
        status_code=status,
        headers=headers,
        media_type="application/json;charset=UTF-8",
    )


def error_response(error: SalesforceApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.body(), error.status, {**error.headers, **(headers or {})})


def fault_response(kind: str, status: int, message: str, retry_after: float | None) -> Response:
    """make_app faults in Salesforce's own error shape."""
    if kind == "outage":
        error = SalesforceApiError(503, "SERVER_UNAVAILABLE", "Service temporarily unavailable.")
    elif kind == "concurrency":
        error = SalesforceApiError(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        )
    elif kind == "rate_limit":
        error = SalesforceApiError(
            403, "REQUEST_LIMIT_EXCEEDED", "Request rate limit exceeded (sandbox fault)."
        )
    else:
        error = SalesforceApiError(
            500, "UNKNOWN_EXCEPTION", f"An unexpected error occurred: {message}"
        )
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return error_response(error, headers)
